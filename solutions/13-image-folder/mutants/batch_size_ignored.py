"""Exercise 13, a mistake: batch_size=4 is written in: the argument is ignored."""

import os

from torch.utils.data import DataLoader
from torchvision import datasets, transforms

SIZE = 16  # every image is SIZE x SIZE pixels, and the model takes that size
MEAN = (0.4179,)  # the grey level of the training images on the 0-1 scale: their mean
STD = (0.2341,)  # and their standard deviation (one value each: one grey channel)


def train_transform():
    """Random flips and shifted crops for training, then a normalised one-channel tensor."""
    return transforms.Compose([
        transforms.Grayscale(num_output_channels=1),  # ImageFolder opens every file as RGB
        transforms.RandomHorizontalFlip(),
        transforms.RandomCrop(SIZE, padding=2),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])


def val_transform():
    """The same conversion without anything random."""
    return transforms.Compose([
        transforms.Grayscale(num_output_channels=1),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])


def make_datasets(root):
    """ImageFolder datasets of root/train and root/val, and the class names in label order."""
    train_set = datasets.ImageFolder(os.path.join(root, "train"), transform=train_transform())
    val_set = datasets.ImageFolder(os.path.join(root, "val"), transform=val_transform())
    return train_set, val_set, train_set.classes


def make_loaders(train_set, val_set, batch_size):
    """A shuffled loader for training, and one that keeps the validation set's order."""
    train_loader = DataLoader(train_set, batch_size=4, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=4, shuffle=False)
    return train_loader, val_loader
