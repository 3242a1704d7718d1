"""F.relu(x) after conv2 written as a statement, its result never assigned: conv2's output reaches pooling unrectified.

Idiom: one call per line, `F.relu(x)` without `x =` (and without inplace=True)
Seen in: pytorch/examples, mnist/main.py (x = self.conv2(x) then x = F.relu(x) on its own line, the pattern whose `x =` was dropped here); solutions/02-forward/alternatives/reshape_inplace.py in this repository (the valid version: F.relu(x, inplace=True) as a statement)
Expect: fails activations
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
        x = self.conv1(x)
        x = F.relu(x)
        x = self.pool(x)
        x = self.conv2(x)
        F.relu(x)
        x = self.pool(x)
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = self.dropout(x)
        return self.fc2(x)
