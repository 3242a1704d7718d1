"""torch.flatten(x) with no start dimension: the whole batch becomes one vector, which works only for a single image.

Idiom: `x = torch.flatten(x)` (believed to do what nn.Flatten() does), then fc1
Seen in: stackoverflow.com/questions/67460123 (Understanding torch.nn.Flatten: torch.flatten flattens all dimensions by default, nn.Flatten starts at dimension 1); ML4GLand/EUGENe, eugene/models/base/_layers.py (a Flatten module written as x.view(batch_size, -1), the difference this code misses)
Expect: fails output-shape
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
        x = torch.flatten(x)
        x = F.relu(self.fc1(x))
        x = self.dropout(x)
        x = self.fc2(x)
        return x
