"""The PyTorch CIFAR-10 tutorial's network, a count_parameters helper from a utils module, and output_shape
built on the forum's `conv_output_shape` helper, with the dilation turned into a pair like the other settings.

Idiom: `class Net` with `nn.Conv2d(3, 6, 5)`, one shared `nn.MaxPool2d(2, 2)`, `nn.Linear(16 * 5 * 5, 120)`,
`torch.flatten(x, 1) # flatten all dimensions except batch`; `sum(p.numel() for p in model.parameters() if
p.requires_grad)`; `floor(((h_w[0] + (2 * pad[0]) - (dilation * (kernel_size[0] - 1)) - 1) / stride[0]) + 1)`
after `if type(x) is not tuple: x = (x, x)`
Seen in: pytorch/tutorials, beginner_source/blitz/cifar10_tutorial.py (class Net and its forward);
PengBoXiangShang/torchsketch, torchsketch/utils/general_utils/count_parameters.py (count_parameters);
JeremieGince/MNIST_classification_using_Quantum_Machine_Learning, Modules/util.py (conv_output_shape)
Expect: pass
"""

from math import floor

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def build_model():
    net = Net()
    return net


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def conv_output_shape(h_w, kernel_size=1, stride=1, pad=0, dilation=1):
    """Utility function for computing output of convolutions: takes a tuple of (h,w) and returns a tuple of (h,w)."""
    if type(h_w) is not tuple:
        h_w = (h_w, h_w)
    if type(kernel_size) is not tuple:
        kernel_size = (kernel_size, kernel_size)
    if type(stride) is not tuple:
        stride = (stride, stride)
    if type(pad) is not tuple:
        pad = (pad, pad)
    if type(dilation) is not tuple:
        dilation = (dilation, dilation)
    h = floor(((h_w[0] + (2 * pad[0]) - (dilation[0] * (kernel_size[0] - 1)) - 1) / stride[0]) + 1)
    w = floor(((h_w[1] + (2 * pad[1]) - (dilation[1] * (kernel_size[1] - 1)) - 1) / stride[1]) + 1)
    return h, w


def output_shape(layer, input_shape):
    batch, channels, height, width = input_shape
    h, w = conv_output_shape((height, width), layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    if isinstance(layer, nn.Conv2d):
        channels = layer.out_channels
    return (batch, channels, h, w)
