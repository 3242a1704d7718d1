"""A fresh nn.Dropout(0.25) made and called inside forward: a new module is always in training mode, so model.eval() never turns it off.

Idiom: nn.Dropout(p)(x) inline, like the parameter-free nn.ReLU()(x) of the tutorials, instead of self.dropout
Seen in: pytorch/tutorials, beginner_source/basics/buildmodel_tutorial.py (hidden1 = nn.ReLU()(hidden1): a module made and called on one line); (exact-string search of public code; the index named no repository) forward methods with `x = nn.Dropout(0.5)(x)` between fc1 and fc2
Expect: fails dropout-modes
"""

import torch
import torch.nn.functional as F
from torch import nn


class MNISTNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.shape[0], -1)
        x = F.relu(self.fc1(x))
        x = nn.Dropout(0.25)(x)
        x = self.fc2(x)
        return x
