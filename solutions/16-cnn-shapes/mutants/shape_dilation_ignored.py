"""Exercise 16, a mistake: the dilation left out: the kernel's span taken as k."""

import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    """Two 3x3 convolutions (padding 1 keeps the size), each followed by ReLU and 2x2 max pooling, then two
    linear layers: [N, 3, 32, 32] -> [N, 16, 16, 16] -> [N, 32, 8, 8] -> [N, 2048] -> [N, 32] -> [N, 10]."""

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
    """A CNN for [N, 3, 32, 32] images that gives 10 scores per image."""
    return SmallCNN()


def count_parameters(model):
    """The number of trainable numbers in the model's parameters (biases included, frozen ones left out)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _out_size(size, kernel, stride, padding, dilation):
    return (size + 2 * padding - kernel) // stride + 1


def output_shape(layer, input_shape):
    """The shape (N, C, H, W) that a Conv2d or MaxPool2d layer gives for an input of shape `input_shape`."""
    n, c, h, w = input_shape
    kh, kw = _pair(layer.kernel_size)
    sh, sw = _pair(layer.stride)
    ph, pw = _pair(layer.padding)
    dh, dw = _pair(layer.dilation)
    channels = layer.out_channels if isinstance(layer, nn.Conv2d) else c
    return (n, channels, _out_size(h, kh, sh, ph, dh), _out_size(w, kw, sw, pw, dw))
