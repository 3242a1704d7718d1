"""The 60-minute-blitz LeNet idiom: flatten with x.view(-1, self.num_flat_features(x)), a helper method that counts the features.

Idiom: a num_flat_features(x) method multiplying x.size()[1:], x.view(-1, n), F.relu inside self.pool(...)
Seen in: pytorch/tutorials, beginner_source/blitz/neural_networks_tutorial.py (x = x.view(-1, self.num_flat_features(x)); def num_flat_features(self, x): size = x.size()[1:] ...)
Expect: pass
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
        # Max pooling over a (2, 2) window
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = self.dropout(x)
        x = self.fc2(x)
        return x

    def num_flat_features(self, x):
        size = x.size()[1:]  # all dimensions except the batch dimension
        num_features = 1
        for s in size:
            num_features *= s
        return num_features
