"""Exercise 16, a mistake: output_shape wraps a popular forum helper, conv_output_shape(h_w, kernel_size,
stride, pad, dilation), which turns an int kernel, stride and padding into pairs but takes the dilation as
an int: a Conv2d's dilation is the pair (1, 1), and `dilation * (kernel_size[0] - 1)` repeats the tuple."""

from math import floor

import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 8 * 8, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def build_model():
    return SmallCNN()


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def conv_output_shape(h_w, kernel_size=1, stride=1, pad=0, dilation=1):
    if type(h_w) is not tuple:
        h_w = (h_w, h_w)
    if type(kernel_size) is not tuple:
        kernel_size = (kernel_size, kernel_size)
    if type(stride) is not tuple:
        stride = (stride, stride)
    if type(pad) is not tuple:
        pad = (pad, pad)
    h = floor(((h_w[0] + (2 * pad[0]) - (dilation * (kernel_size[0] - 1)) - 1) / stride[0]) + 1)
    w = floor(((h_w[1] + (2 * pad[1]) - (dilation * (kernel_size[1] - 1)) - 1) / stride[1]) + 1)
    return h, w


def output_shape(layer, input_shape):
    n, c, h, w = input_shape
    out_h, out_w = conv_output_shape((h, w), layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    return (n, getattr(layer, "out_channels", c), out_h, out_w)
