"""Step-by-step forward with x.view(x.size()[0], -1), torch.nn.functional spelled out, and the dropout applied to the ReLU output in place of x.

Idiom: x.size()[0] for the batch size, torch.nn.functional.relu written in full, a variable per stage (h1, h2, feats)
Seen in: Ayumu-Nono/Pytorch-CNN, 3_cnn/model.py (x = x.view(x.size()[0], -1)); moslian-off/A-Web-App-to-Recognizing-Handwritten-Numbers, model.py (self.pool(torch.nn.functional.relu(self.conv1(x))))
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
        h1 = self.pool(torch.nn.functional.relu(self.conv1(x)))
        h2 = self.pool(torch.nn.functional.relu(self.conv2(h1)))
        feats = h2.view(h2.size()[0], -1)
        hidden = torch.nn.functional.relu(self.fc1(feats))
        return self.fc2(self.dropout(hidden))
