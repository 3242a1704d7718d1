"""Exercise 16: the shapes inside a CNN.

`build_model` returns a CNN for 32x32 colour images in which two shapes do not fit yet (it raises on the
first batch), `count_parameters` runs but counts what it should not, and `output_shape` is yours to write.
`grade exercise 16` tells you what the checks observe.
"""

import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    """Two convolutions, each followed by ReLU and 2x2 max pooling, then two linear layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 7 * 7, 32)  # copied from a model for 28x28 MNIST digits
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def build_model():
    """A CNN for [N, 3, 32, 32] images that gives 10 scores per image."""
    return SmallCNN()


def count_parameters(model):
    """The number of trainable numbers in the model's parameters (biases included, frozen ones left out)."""
    return sum(p.numel() for p in model.parameters())


def output_shape(layer, input_shape):
    """The shape (N, C, H, W) that a Conv2d or MaxPool2d layer gives for an input of shape `input_shape`."""
    # TODO: read kernel_size, stride, padding and dilation from the layer (an int or a pair of ints),
    # and compute each output size with the formula from the instructions.
    raise NotImplementedError("output_shape: compute the output shape from the layer's settings")
