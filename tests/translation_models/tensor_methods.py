"""PyTorch models whose forward() uses tensor methods and nn.Upsample: the translate CLI tests
(tests/test_translation_cli.py) and the verify CLI tests (tests/test_verify_cli.py) port them to Keras.
Chain, ConvUp and InPlaceOnFresh translate with no TODO; InPlace (`x.mul_` on a shared tensor), Normalised
(`.item()`) and Pieces (`narrow`) have one."""

import torch
from torch import nn


class Chain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)

    def forward(self, x):
        return self.fc(x).clamp_min(0.1).cumsum(1)


class InPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)

    def forward(self, x):
        x = self.fc(x)
        y = x
        x.mul_(2)  # y sees the write too
        return x + y


class InPlaceOnFresh(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)

    def forward(self, x):
        x = self.fc(x)
        x.mul_(2)  # on a tensor nothing else refers to: `x = x * 2` is the same
        return x


class Normalised(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)

    def forward(self, x):
        y = self.fc(x)
        return y / y.max().item()


class Pieces(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)
        self.names = ["a", "b"]

    def scale(self, h):
        return h * 2

    def forward(self, x):
        outs = []
        h = self.scale(self.fc(x))
        outs.append(h.clamp(min=0.0))
        outs.append(h.clamp(max=0.5).long().float())
        a = h.narrow(1, 0, 4)
        label = ",".join(self.names).split(",")
        return torch.cat(outs + [a], dim=1)


class ConvUp(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return self.up(self.conv(x))
