"""Exercise 13: training and validation sets from a folder of images.

make_datasets is yours to write; make_loaders runs, but has a bug that quietly gives both loaders'
items in the wrong order. `grade exercise 13` tells you what the checks observe.
"""

import os

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

SIZE = 16  # every image is SIZE x SIZE pixels, and the model takes that size
MEAN = (0.4179,)  # the grey level of the training images on the 0-1 scale: their mean
STD = (0.2341,)  # and their standard deviation (one value each: one grey channel)


def make_datasets(root):
    """ImageFolder datasets of root/train and root/val, and the class names in label order."""
    # TODO: a training transform: one grey channel, random augmentation, ToTensor, Normalize(MEAN, STD).
    # TODO: a validation transform: the same conversion and normalisation, nothing random.
    # TODO: train_set from root/train, val_set from root/val (datasets.ImageFolder), and the class names.
    raise NotImplementedError("make_datasets: build the two ImageFolder datasets and return them with the class names")


def make_loaders(train_set, val_set, batch_size):
    """A shuffled loader for training, and one that keeps the validation set's order."""
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=False)
    val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=True)
    return train_loader, val_loader
