"""PyTorch models for the deployment truth tests. Lines the advisor must report as blocking carry `# BLOCKS`."""

import random

import numpy as np
import torch
from torch import nn


class Clean(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        if x.dim() == 2 and x.shape[0] > 0:  # shape checks are static: fine for export
            x = torch.relu(self.fc1(x))
        return self.fc2(x)


class StaticChecks(nn.Module):
    """Shape, dtype, mode and type checks are static: export specialises on them, nothing blocks."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.scale = 2.0

    def forward(self, x, mask=None):
        if not torch.is_tensor(x) or x.dim() != 2:
            raise ValueError("expected a batch of vectors")
        if mask is not None:
            x = x * mask
        if self.training:
            x = x * 0.5
        if x.is_floating_point() and x.dtype == torch.float32 and x.size(-1) == 8:
            x = self.fc(x)
        for _ in range(x.shape[0] // 2):
            x = x + 1
        if all(part.dim() == 2 for part in x.split(1)):  # reads shapes of tensors, not values
            x = self._rescale(x, True)
        return x * self.scale if x.numel() > 0 else x

    def _rescale(self, h, enabled):
        if enabled:  # a Python flag from the call site, not a tensor
            h = h * 0.5
        return h


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, images):
        features = torch.relu(self.conv(images)).mean(dim=(2, 3))
        return self.head(features)


class BranchOnValue(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc(x)
        if h.sum() > 0:  # BLOCKS
            return h * 2
        return -h


class NumpyRoundTrip(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        scale = x.detach().numpy().std()  # BLOCKS
        return self.fc(x) * float(scale)


class NumpyOnTensor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(torch.as_tensor(np.tanh(x)))  # BLOCKS


class FloatOfTensor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x) / float(x.abs().max())  # needs strict export


class PythonRandom(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x) * random.uniform(0.5, 1.5)  # BLOCKS


class ItemInArithmetic(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        peak = x.abs().max().item()
        return self.fc(x) / peak


class MutatesInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        x.mul_(2)
        return self.fc(x)


class DictOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc(x)
        return {"logits": h, "probabilities": torch.softmax(h, dim=-1)}


class Composite(nn.Module):
    """Blocked through its sub-module: the blocking line is in BranchOnValue."""

    def __init__(self):
        super().__init__()
        self.gate = BranchOnValue()
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.gate(x))
