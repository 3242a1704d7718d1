"""Exercise 2, another valid style: the layers made in __init__ applied through their weights with the
functional API (F.conv2d, F.linear), and F.dropout following the model's mode."""

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
        x = F.max_pool2d(F.relu(F.conv2d(x, self.conv1.weight, self.conv1.bias, padding=1)), 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, self.conv2.weight, self.conv2.bias, padding=1)), 2)
        x = x.flatten(start_dim=1)
        x = F.dropout(F.relu(F.linear(x, self.fc1.weight, self.fc1.bias)), p=0.25, training=self.training)
        return F.linear(x, self.fc2.weight, self.fc2.bias)
