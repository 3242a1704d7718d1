"""Probabilities returned from forward: nn.Softmax(dim=1) created and applied to fc2's output.

Idiom: nn.Softmax(dim=1)(logits) called inline (as in the quickstart tutorial, but inside forward)
Seen in: JohanPhan/Dual_active_learing, model/kCNN.py (self.softmax = nn.Softmax(dim = 1); x = self.softmax(self.fc2(x)) at the end of forward); pytorch/tutorials, beginner_source/basics/buildmodel_tutorial.py (pred_probab = nn.Softmax(dim=1)(logits), outside the model there)
Expect: fails raw-logits
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
        x = self.dropout(F.relu(self.fc1(x)))
        logits = self.fc2(x)
        return nn.Softmax(dim=1)(logits)
