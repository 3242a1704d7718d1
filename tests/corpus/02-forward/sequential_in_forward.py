"""The layers of __init__ strung into an nn.Sequential built inside forward, with nn.ReLU() and nn.Flatten() made on the spot.

Idiom: nn.Sequential(self.conv1, nn.ReLU(), self.pool, ..., nn.Flatten(), self.fc1, nn.ReLU(), self.dropout, self.fc2)(x), self.pool reused twice
Seen in: pytorch/tutorials, beginner_source/basics/buildmodel_tutorial.py (seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 10)) built from existing layers, nn.ReLU()(hidden1) called inline); Ayumu-Nono/Pytorch-CNN, 3_cnn/model.py (one self.pool applied after both convolutions)
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
        net = nn.Sequential(
            self.conv1, nn.ReLU(), self.pool,
            self.conv2, nn.ReLU(), self.pool,
            nn.Flatten(),
            self.fc1, nn.ReLU(), self.dropout,
            self.fc2,
        )
        return net(x)
