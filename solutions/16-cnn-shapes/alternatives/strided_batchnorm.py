"""Exercise 16, another valid style: no pooling layers at all: three stride-2 convolutions, each with
BatchNorm (so `bias=False`), then `nn.AdaptiveAvgPool2d(1)` and `nn.Flatten()`; count_parameters walking
`model.modules()` with `parameters(recurse=False)`; output_shape reading the settings into a dict and
rounding down with `math.floor` of a true division.

Seen in: the conv-BN-ReLU blocks with `bias=False` and the global average pooling before the classifier of
pytorch/vision, torchvision/models/resnet.py (`nn.AdaptiveAvgPool2d((1, 1))`, `torch.flatten(x, 1)`);
JeremieGince/MNIST_classification_using_Quantum_Machine_Learning, Modules/util.py (`floor(((h_w[0] + (2 * pad[0])
- (dilation * (kernel_size[0] - 1)) - 1) / stride[0]) + 1)`)."""

import math

from torch import nn


def _block(in_channels, out_channels):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def build_model():
    return nn.Sequential(
        _block(3, 16),   # 32x32 -> 16x16
        _block(16, 32),  # -> 8x8
        _block(32, 64),  # -> 4x4
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def count_parameters(model):
    total = 0
    for module in model.modules():
        for param in module.parameters(recurse=False):
            if param.requires_grad:
                total += param.numel()
    return total


def output_shape(layer, input_shape):
    n, c, h, w = input_shape
    settings = {}
    for name in ("kernel_size", "stride", "padding", "dilation"):
        value = getattr(layer, name)
        settings[name] = value if isinstance(value, tuple) else (value, value)
    out = []
    for i, size in enumerate((h, w)):
        k, s = settings["kernel_size"][i], settings["stride"][i]
        p, d = settings["padding"][i], settings["dilation"][i]
        out.append(math.floor((size + 2 * p - d * (k - 1) - 1) / s + 1))
    if isinstance(layer, nn.Conv2d):
        c = layer.out_channels
    return (n, c, out[0], out[1])
