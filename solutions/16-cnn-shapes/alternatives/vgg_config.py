"""Exercise 16, another valid style: VGG-style feature layers built in a loop from a config list, where
"M" is a pooling and a number a 3x3 convolution of that many channels; forward flattens with
`x.view(-1, 32 * 8 * 8)` (the batch size comes out of the -1); count_parameters as an explicit loop over
`named_parameters()`; output_shape looping over the two spatial dimensions.

Seen in: pytorch/vision, torchvision/models/vgg.py (`make_layers(cfg)`: `if v == "M": layers += [nn.MaxPool2d(
kernel_size=2, stride=2)]`, else a conv2d, `in_channels = v`); the older PyTorch CIFAR-10 tutorial's
`x = x.view(-1, 16 * 5 * 5)` (pytorch/tutorials, beginner_source/blitz/cifar10_tutorial.py)."""

from torch import nn

CFG = [16, "M", 32, "M"]


def make_layers(cfg, in_channels=3):
    layers = []
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


class VGGTiny(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = make_layers(CFG)
        self.classifier = nn.Sequential(
            nn.Linear(32 * 8 * 8, 32),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(32, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = x.view(-1, 32 * 8 * 8)
        return self.classifier(x)


def build_model():
    return VGGTiny()


def count_parameters(model):
    total = 0
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        total += param.numel()
    return total


def output_shape(layer, input_shape):
    n, c = input_shape[0], input_shape[1]
    shape = [n, layer.out_channels if isinstance(layer, nn.Conv2d) else c]
    for i, size in enumerate(input_shape[2:]):
        k, s, p, d = (v[i] if isinstance(v, (tuple, list)) else v
                      for v in (layer.kernel_size, layer.stride, layer.padding, layer.dilation))
        shape.append((size + 2 * p - d * (k - 1) - 1) // s + 1)
    return tuple(shape)
