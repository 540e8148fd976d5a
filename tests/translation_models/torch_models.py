"""PyTorch models the whole-model translation tests port to Keras (input shapes in INPUTS)."""

import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    """Conv + BatchNorm + pooling, then flatten -> linear (the flatten order must survive)."""

    def __init__(self, num_classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 6, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(6, eps=1e-3, momentum=0.2)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(6 * 2 * 2, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = x.view(x.size(0), -1)
        return self.fc(self.dropout(x))


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + x)


class ResNetTiny(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.block1 = ResidualBlock(8)
        self.block2 = ResidualBlock(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        x = torch.flatten(self.pool(x), 1)
        return self.head(x)


class LSTMClassifier(nn.Module):
    def __init__(self, features=6, hidden=8, classes=3):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


class BiGRUTagger(nn.Module):
    """Embedding + bidirectional recurrent layer, time-major (batch_first=False)."""

    def __init__(self, vocab=20, dim=6, hidden=5, tags=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.LSTM(dim, hidden, bidirectional=True)
        self.out = nn.Linear(2 * hidden, tags)

    def forward(self, tokens):
        x = self.embed(tokens).permute(1, 0, 2)
        x, (h, c) = self.rnn(x)
        return self.out(x.permute(1, 0, 2))


class AttentionBlock(nn.Module):
    def __init__(self, dim=8, heads=2):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm1 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 16), nn.GELU(), nn.Linear(16, dim))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x):
        attended, _ = self.attn(x, x, x)
        x = self.norm1(x + attended)
        return self.norm2(x + self.ff(x))


class ConvAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


mlp = nn.Sequential(
    nn.Linear(10, 16),
    nn.LeakyReLU(0.1),
    nn.BatchNorm1d(16),
    nn.Linear(16, 3),
    nn.Softmax(dim=1),
)


INPUTS = {
    "SmallCNN": (3, 8, 8),
    "ResNetTiny": (3, 7, 6),
    "LSTMClassifier": (5, 6),
    "BiGRUTagger": ("tokens", 7, 20),
    "AttentionBlock": (5, 8),
    "ConvAutoencoder": (1, 8, 8),
    "mlp": (10,),
}


class StackedMLP(nn.Module):
    """A ModuleList built by a comprehension, applied in a loop."""

    def __init__(self, width=6, depth=3):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        self.norm = nn.LayerNorm(width, eps=1e-6)

    def forward(self, x):
        for layer in self.layers:
            x = F.silu(layer(x))
        return self.norm(x).sum(dim=-1, keepdim=True)


INPUTS["StackedMLP"] = (6,)


cnn_sequential = nn.Sequential(
    nn.Conv2d(2, 4, 3, stride=2),
    nn.BatchNorm2d(4),
    nn.ELU(),
    nn.AvgPool2d(2, padding=1),
    nn.Flatten(),
    nn.Linear(4 * 3 * 2, 3),
)

INPUTS["cnn_sequential"] = (2, 9, 7)
