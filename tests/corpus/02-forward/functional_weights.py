"""MAML-style functional forward: the layers' own weights passed to F.conv2d / F.linear, the module objects never called.

Idiom: F.conv2d(x, self.conv1.weight, self.conv1.bias, padding=1), F.max_pool2d, F.linear(x, self.fc1.weight, self.fc1.bias), F.dropout(p=self.dropout.p, training=self.training)
Seen in: tristandeleu/pytorch-meta, torchmeta/modules/conv.py (MetaConv2d.forward: self._conv_forward(input, params["weight"], bias) with the parameters passed in)
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
        x = F.conv2d(x, self.conv1.weight, self.conv1.bias, padding=1)
        x = F.max_pool2d(F.relu(x), 2)
        x = F.conv2d(x, self.conv2.weight, self.conv2.bias, padding=1)
        x = F.max_pool2d(F.relu(x), 2)
        x = x.reshape(x.size(0), -1)
        x = F.relu(F.linear(x, self.fc1.weight, self.fc1.bias))
        x = F.dropout(x, p=self.dropout.p, training=self.training)
        return F.linear(x, self.fc2.weight, self.fc2.bias)
