"""A small PyTorch image classifier with the mistakes tensorlint exists to catch."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Classifier(nn.Module):
    def __init__(self, num_classes: int = 10):
        self.features = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.heads = [nn.Linear(32 * 16 * 16, num_classes) for _ in range(2)]

    def forward(self, x):
        x = self.features(x).flatten(1)
        x = F.dropout(x, p=0.5)
        return F.softmax(self.heads[0](x), dim=1)


def train(dataset, epochs: int = 5):
    model = Classifier().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    for epoch in range(epochs):
        running = 0.0
        for images, labels in loader:
            images.to(device)
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss
        print(f"epoch {epoch}: {running / len(loader)}")
    return model


def resume(path):
    model = Classifier()
    model.load_state_dict(torch.load(path))
    return model
