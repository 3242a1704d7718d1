"""forward split into _features and _classifier helpers, dropout applied under `if self.training:`, x.flatten(start_dim=1) as a method.

Idiom: helper methods called from forward, `if self.training: x = self.dropout(x)`, Tensor.flatten(start_dim=1), torch.relu
Seen in: aFcFzF/ai-learn, ml/torch/learn/hello_world/number_m2.py (torch.flatten(x, 1) then self.fc1, dropout layers on self); Borfish/hanjiang, 报告汇总/钟贤杰/Dropout.md (d2l dropout notes: `if self.training == True:` around the dropout step)
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

    def _features(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        return self.pool(torch.relu(self.conv2(x)))

    def _classifier(self, x):
        x = torch.relu(self.fc1(x))
        if self.training:
            x = self.dropout(x)
        return self.fc2(x)

    def forward(self, x):
        x = self._features(x)
        x = x.flatten(start_dim=1)
        return self._classifier(x)
