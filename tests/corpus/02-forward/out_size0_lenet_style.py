"""kuangliu-style LeNet forward: the running tensor called `out`, F.max_pool2d instead of self.pool, out.view(out.size(0), -1).

Idiom: out = F.relu(self.conv1(x)); out = F.max_pool2d(out, 2); out.view(out.size(0), -1); return out
Seen in: MiguelAReis/PyTorch_Brevitas, Brevitas_Converter/Example/lenet.py ('''LeNet in PyTorch.''': out = self.relu1(self.conv1(x)); out = self.pool1(out); out = out.view(out.size(0), -1)); A1ex-Chen/DL_project_log, data/deeplite-torch-zoo/deeplite_torch_zoo/src/classification/cifar_models/preact_resnet_forward.py (out = out.view(out.size(0), -1))
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
        out = F.relu(self.conv1(x))
        out = F.max_pool2d(out, 2)
        out = F.relu(self.conv2(out))
        out = F.max_pool2d(out, 2)
        out = out.view(out.size(0), -1)
        out = F.relu(self.fc1(out))
        out = self.dropout(out)
        out = self.fc2(out)
        return out
