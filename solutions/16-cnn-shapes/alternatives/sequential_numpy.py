"""Exercise 16, another valid style: the model as one `nn.Sequential` with `nn.Flatten()` (three 5x5
convolutions padded by 2, each pooled), count_parameters the way many model classes print their size
(`filter(lambda p: p.requires_grad, ...)` and `np.prod(p.size())`, which gives NumPy integers), and
output_shape with `math.floor` of a true division and PyTorch's own `_pair` for ints and pairs.

Seen in: Wesirehour/pytorch_learn, model.py (a video course's CIFAR-10 `nn.Sequential(nn.Conv2d(3, 32, 5, 1, 2),
nn.MaxPool2d(2, 2), ..., nn.Flatten(), nn.Linear(64*4*4, 64), ...)`, narrower here to fit the budget);
victoresque/pytorch-template, base/base_model.py (`filter(lambda p: p.requires_grad, self.parameters())`,
`sum([np.prod(p.size()) for p in model_parameters])`)."""

import math

import numpy as np
from torch import nn
from torch.nn.modules.utils import _pair


def build_model():
    return nn.Sequential(
        nn.Conv2d(3, 16, 5, 1, 2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, 1, 2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 5, 1, 2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def count_parameters(model):
    model_parameters = filter(lambda p: p.requires_grad, model.parameters())
    return sum([np.prod(p.size()) for p in model_parameters])


def output_shape(layer, input_shape):
    n, c, h, w = input_shape
    kernel, stride = _pair(layer.kernel_size), _pair(layer.stride)
    padding, dilation = _pair(layer.padding), _pair(layer.dilation)
    sizes = [
        math.floor((size + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i] + 1)
        for i, size in enumerate((h, w))
    ]
    channels = layer.out_channels if isinstance(layer, nn.Conv2d) else c
    return (n, channels, *sizes)
