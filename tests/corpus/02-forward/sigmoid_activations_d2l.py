"""LeNet-as-taught activations: torch.sigmoid after conv1, conv2 and fc1 where this network uses ReLU.

Idiom: torch.sigmoid(self.conv(x)) before pooling, the classic LeNet-5 activation of d2l chapter 7
Seen in: d2l-ai/d2l-en, chapter_convolutional-neural-networks/lenet.md (nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(...), ... nn.Linear(16*5*5, 120), nn.Sigmoid()); AqSoeg/NN-Implementation, handwritten_digit_recognition/src/model.py (x = self.sigmoid(x) after c1, c3, fc1, fc2)
Expect: fails activations
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
        x = self.pool(torch.sigmoid(self.conv1(x)))
        x = self.pool(torch.sigmoid(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.dropout(torch.sigmoid(self.fc1(x)))
        return self.fc2(x)
