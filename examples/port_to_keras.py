"""A PyTorch CNN ported to Keras by hand, with its weights copied across: the porting mistakes tensorlint flags."""

import keras
import torch
import torch.nn as nn
from keras import layers


class TorchNet(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(16, momentum=0.99)
        self.act = nn.LeakyReLU()
        self.fc = nn.Linear(16 * 16 * 16, num_classes)

    def forward(self, x):
        return self.fc(self.act(self.bn(self.conv(x))).flatten(1))


def port(torch_model: TorchNet, num_classes: int = 10):
    conv = layers.Conv2D(16, 3, strides=2, padding="same")
    bn = layers.BatchNormalization(momentum=0.1)
    dense = layers.Dense(num_classes)
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        conv,
        bn,
        layers.LeakyReLU(),
        layers.Flatten(data_format="channels_first"),
        dense,
    ])
    conv.set_weights([torch_model.conv.weight.detach().numpy().T, torch_model.conv.bias.detach().numpy()])
    bn.set_weights([torch_model.bn.weight.detach().numpy(), torch_model.bn.bias.detach().numpy(),
                    torch_model.bn.running_mean.numpy(), torch_model.bn.running_var.numpy()])
    dense.set_weights([torch_model.fc.weight.detach().numpy(), torch_model.fc.bias.detach().numpy()])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy())
    return model


criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(TorchNet().parameters(), lr=1e-3)
