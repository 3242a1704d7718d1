"""Another valid style: functional F.max_pool2d, pooling before ReLU, torch.flatten(x, 1) and F.dropout(..., training=self.training)."""

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
        x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2))
        x = torch.flatten(x, 1)
        x = F.dropout(F.relu(self.fc1(x)), p=0.25, training=self.training)
        logits = self.fc2(x)
        return logits
