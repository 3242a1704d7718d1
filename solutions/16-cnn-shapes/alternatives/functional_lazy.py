"""Exercise 16, another valid style: pooling and activation as functions in forward (`F.max_pool2d`,
`F.relu`), `torch.flatten(x, 1)`, and an `nn.LazyLinear` that takes its number of inputs from the first
batch; count_parameters over `named_parameters()` with `nelement()`; output_shape with its own int-or-tuple
handling, `//`, and `getattr(layer, "out_channels", c)` for the channels.

Seen in: the PyTorch CIFAR-10 tutorial's `torch.flatten(x, 1) # flatten all dimensions except batch`
(pytorch/tutorials, beginner_source/blitz/cifar10_tutorial.py); astooke/rlpyt, rlpyt/models/utils.py
(`kh, kw = kernel_size if isinstance(kernel_size, tuple) else (kernel_size,) * 2`, then `// sh + 1`)."""

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 12, 3, padding=1)
        self.conv2 = nn.Conv2d(12, 24, 3, padding=1)
        self.fc = nn.LazyLinear(num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), kernel_size=2, stride=2)
        x = torch.flatten(x, 1)
        return self.fc(x)


def build_model():
    return Net()


def count_parameters(model):
    return sum(param.nelement() for _, param in model.named_parameters() if param.requires_grad)


def _two(value):
    return value if isinstance(value, tuple) else (value,) * 2


def output_shape(layer, input_shape):
    n, c, h, w = input_shape
    kh, kw = _two(layer.kernel_size)
    sh, sw = _two(layer.stride)
    ph, pw = _two(layer.padding)
    dh, dw = _two(layer.dilation)
    h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return n, getattr(layer, "out_channels", c), h, w
