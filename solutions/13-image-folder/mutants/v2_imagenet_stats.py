"""Exercise 13, a mistake: with transforms.v2, ImageNet's three-value mean and std on the grey images: v2's Normalize
broadcasts the one channel to three instead of raising."""

import os

import torch
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import v2

SIZE = 16
MEAN = (0.4179,)
STD = (0.2341,)


def make_datasets(root):
    """ImageFolder datasets of root/train and root/val, and the class names in label order."""
    train_tf = v2.Compose([
        v2.ToImage(),
        v2.Grayscale(),
        v2.RandomHorizontalFlip(),
        v2.RandomCrop(SIZE, padding=2),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    val_tf = v2.Compose([
        v2.ToImage(),
        v2.Grayscale(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    train_set = datasets.ImageFolder(os.path.join(root, "train"), transform=train_tf)
    val_set = datasets.ImageFolder(os.path.join(root, "val"), transform=val_tf)
    return train_set, val_set, train_set.classes


def make_loaders(train_set, val_set, batch_size):
    """A shuffled loader for training, and one that keeps the validation set's order."""
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True),
            DataLoader(val_set, batch_size=batch_size, shuffle=False))
