"""self.dropout(x) called on a line of its own and its result thrown away: dropout never reaches fc2.

Idiom: `self.dropout(x)` as a statement (as if it changed x in place), one step per line
Seen in: (exact-string search of public code; the index named no repository) a PositionwiseFeedForward.forward with `x=self.activation_func(x)`, then a bare `self.dropout(x)`, then `x = self.fc2(x)`; pytorch/examples, mnist/main.py (the one-step-per-line style: x = self.fc1(x); x = F.relu(x); x = self.dropout2(x))
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
        x = x.view(x.size(0), -1)
        x = self.fc1(x)
        x = F.relu(x)
        self.dropout(x)
        x = self.fc2(x)
        return x
