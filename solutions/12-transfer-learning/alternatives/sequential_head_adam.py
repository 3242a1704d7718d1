"""Exercise 12, another valid style: the whole model frozen with `model.requires_grad_(False)`, a head that
is a small `nn.Sequential` (dropout, then the linear layer), Adam over `filter(lambda p: p.requires_grad,
...)`, and training mode switched on for the head alone after `model.eval()`.

Seen in: heads such as `model.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_inputs, num_classes))`
after `n_inputs = model.fc.in_features`, common in Kaggle-style fine-tuning scripts; the optimizer line of
victoresque/pytorch-template train.py, `trainable_params = filter(lambda p: p.requires_grad,
model.parameters())`; and `model.eval()` followed by `model.fc.train()` for a frozen feature extractor."""

import torch
from torch import nn
from torchvision.models import resnet18


def build_model(num_classes):
    model = resnet18(weights=None)
    model.requires_grad_(False)
    n_inputs = model.fc.in_features
    model.fc = nn.Sequential(
        nn.Dropout(0.2),
        nn.Linear(n_inputs, num_classes),
    )
    return model


def make_optimizer(model):
    trainable_params = filter(lambda p: p.requires_grad, model.parameters())
    return torch.optim.Adam(trainable_params, lr=1e-3)


def set_train_mode(model):
    model.eval()  # the frozen backbone, BatchNorm layers included, computes as in evaluation
    model.fc.train()  # only the head trains (its dropout is on)
