"""A video course's CIFAR-10 model: three 5x5 convolutions of 32, 32 and 64 channels padded by 2, each
pooled, inside `self.model = nn.Sequential(...)`, then `nn.Linear(64*4*4, 64)`. It runs and its shapes fit,
but it holds 145,578 parameters, more than the exercise allows; the count and the shapes are right.

Idiom: `nn.Conv2d(3, 32, 5, 1, 2)` with positional stride and padding, `nn.MaxPool2d(2, 2)`, `nn.Flatten()`,
the whole network as one `self.model` Sequential called in forward; a count in the style of a parameter
utility; output_shape reading the layer's settings with `_pair`
Seen in: Wesirehour/pytorch_learn, model.py (class Net with self.model = nn.Sequential(...), the 64*4*4 linear);
PengBoXiangShang/torchsketch, torchsketch/utils/general_utils/count_parameters.py (count_parameters)
Expect: fails parameter-budget
"""

import torch
from torch import nn
from torch.nn.modules.utils import _pair


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 32, 5, 1, 2),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 32, 5, 1, 2),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 64, 5, 1, 2),
            nn.MaxPool2d(2, 2),
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, 64),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        x = self.model(x)
        return x


def build_model():
    return Net()


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def output_shape(layer, input_shape):
    n, c, h, w = input_shape
    (kh, kw), (sh, sw) = _pair(layer.kernel_size), _pair(layer.stride)
    (ph, pw), (dh, dw) = _pair(layer.padding), _pair(layer.dilation)
    h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return (n, layer.out_channels if isinstance(layer, nn.Conv2d) else c, h, w)
