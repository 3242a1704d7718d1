"""The old pytorch/examples MNIST idiom F.dropout(x, training=self.training) with no p: the default p = 0.5, not this model's 0.25.

Idiom: F.relu(F.max_pool2d(self.conv(x), 2)), x.view(-1, 32 * 7 * 7), F.dropout(x, training=self.training) instead of the layer made in __init__
Seen in: Chieh0622/ai, HW07/lenet.py (x = F.relu(F.max_pool2d(self.conv1(x), 2)); x = x.view(-1, 160); x = F.dropout(x, training=self.training)); pytorch/examples, mnist/main.py (the example this idiom comes from, now written with nn.Dropout layers)
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
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = x.view(-1, 32 * 7 * 7)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return x
