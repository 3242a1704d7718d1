"""Exercise 12: transfer learning with a frozen resnet18.

build_model is yours to finish; make_optimizer and set_train_mode run, but each has a bug that makes
training quietly wrong. `grade exercise 12` tells you what the checks observe.
"""

import torch
from torch import nn
from torchvision import models


def build_model(num_classes):
    """resnet18 with its backbone frozen and a new, trainable head of `num_classes` outputs."""
    model = models.resnet18(weights=None)  # weights=None: nothing is downloaded
    # TODO: freeze every parameter of the backbone (requires_grad = False).
    # TODO: replace the head, model.fc, with a new nn.Linear layer giving num_classes outputs.
    raise NotImplementedError("build_model: freeze the backbone, then give the model a new head")


def make_optimizer(model):
    """An optimizer over the model's trainable parameters only."""
    return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def set_train_mode(model):
    """Training mode for the head; the frozen backbone's BatchNorm layers stay in evaluation mode."""
    model.train()
