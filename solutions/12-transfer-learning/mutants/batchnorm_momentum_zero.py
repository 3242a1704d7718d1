"""Exercise 12, a mistake: BatchNorm's momentum is set to 0: the running statistics stay, but each batch is normalised with its own."""

import torch
from torch import nn
from torchvision import models


def build_model(num_classes):
    """resnet18 with its backbone frozen and a new, trainable head of `num_classes` outputs."""
    model = models.resnet18(weights=None)
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, num_classes)  # made after freezing: trainable
    return model


def make_optimizer(model):
    """An optimizer over the model's trainable parameters only."""
    trainable = [param for param in model.parameters() if param.requires_grad]
    return torch.optim.SGD(trainable, lr=0.01, momentum=0.9)


def set_train_mode(model):
    """Training mode for the head; the frozen backbone's BatchNorm layers stay in evaluation mode."""
    model.train()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.0
