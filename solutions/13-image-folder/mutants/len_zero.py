"""Exercise 13, a mistake: each ImageFolder wrapped in a Dataset of its own whose `__len__` was left as a stub
that returns 0, so the sets look empty: `len(train_set) == 0` and a loader gives no batch at all."""

import os

from torch.utils.data import DataLoader, Dataset
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


class GreyFolder(Dataset):
    """An ImageFolder of `path`, its items passed through."""

    def __init__(self, path, transform):
        self.folder = datasets.ImageFolder(path, transform=transform)
        self.classes = self.folder.classes

    def __len__(self):
        return 0  # TODO: the number of images

    def __getitem__(self, i):
        return self.folder[i]


def make_datasets(root):
    """ImageFolder datasets of root/train and root/val, and the class names in label order."""
    train_set = GreyFolder(os.path.join(root, "train"), train_transform())
    val_set = GreyFolder(os.path.join(root, "val"), val_transform())
    return train_set, val_set, train_set.classes


def make_loaders(train_set, val_set, batch_size):
    """A shuffled loader for training, and one that keeps the validation set's order."""
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=False)
    return train_loader, val_loader
