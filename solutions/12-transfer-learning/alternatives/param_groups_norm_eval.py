"""Exercise 12, another valid style: the new head initialised with `nn.init.xavier_uniform_`, the optimizer
given a parameter group (a dict) for the head with a learning rate of its own, and set_train_mode written as
`train()` followed by a loop that puts every `_BatchNorm` whose parameters are frozen in evaluation mode.

Seen in: d2l.ai, chapter "Fine-Tuning" (section 14.2): `finetune_net.fc = nn.Linear(finetune_net.fc.in_features, 2)`,
`nn.init.xavier_uniform_(finetune_net.fc.weight)`, and `torch.optim.SGD([{'params': ...}, {'params':
net.fc.parameters(), 'lr': learning_rate * 10}], ...)`; and open-mmlab/mmdetection
mmdet/models/backbones/resnet.py, whose `train(mode)` calls `super().train(mode)` and then, with `norm_eval`,
`m.eval()` for every `m` in `self.modules()` that is a `torch.nn.modules.batchnorm._BatchNorm`."""

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
import torchvision


def build_model(num_classes):
    net = torchvision.models.resnet18(weights=None)
    for param in net.parameters():
        param.requires_grad_(False)
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    nn.init.xavier_uniform_(net.fc.weight)
    return net


def make_optimizer(model, learning_rate=5e-5):
    return torch.optim.SGD([{"params": model.fc.parameters(), "lr": learning_rate * 10}],
                           lr=learning_rate, weight_decay=0.001)


def set_train_mode(model, mode=True):
    model.train(mode)
    for m in model.modules():
        if isinstance(m, _BatchNorm) and not any(p.requires_grad for p in m.parameters()):
            m.eval()
