"""pytorch/examples mnist style, one operation per line, torch.flatten(x, 1), the result named `output` (without the example's log_softmax).

Idiom: x = self.conv1(x); x = F.relu(x); ... x = torch.flatten(x, 1); output = x; return output
Seen in: pytorch/examples, mnist/main.py (Net.forward: x = self.conv1(x); x = F.relu(x); ... x = torch.flatten(x, 1); x = self.dropout2(x); output = F.log_softmax(x, dim=1)); tangzeping-1/handwritten_recongnition, cnn_web/cnn_model.py (the same 1-16-32 padding=1 architecture with self.pool)
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
        x = self.conv1(x)
        x = F.relu(x)
        x = self.pool(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = self.pool(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout(x)
        x = self.fc2(x)
        output = x
        return output
