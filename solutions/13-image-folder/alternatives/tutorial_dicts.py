"""Exercise 13, another valid style: the transfer-learning tutorial's dictionaries. One dict of transforms
keyed "train" and "val" (built once, at import time), the datasets made by a dict comprehension over the two
folder names, the class names taken from the training dataset, and the loaders made by a comprehension too,
shuffled only where `x == "train"`, with worker processes.

Seen in: pytorch/tutorials, beginner_source/transfer_learning_tutorial.py: `data_transforms = {'train': ...,
'val': ...}`, `image_datasets = {x: datasets.ImageFolder(os.path.join(data_dir, x), data_transforms[x]) for x
in ['train', 'val']}`, `class_names = image_datasets['train'].classes`, `torch.utils.data.DataLoader(...,
shuffle=(x == 'train'), num_workers=4)`."""

import os

import torch
from torchvision import datasets, transforms

SIZE = 16
MEAN = (0.4179,)
STD = (0.2341,)

# Data augmentation and normalization for training
# Just normalization for validation
data_transforms = {
    "train": transforms.Compose([
        transforms.Grayscale(num_output_channels=1),
        transforms.RandomResizedCrop(SIZE, scale=(0.6, 1.0)),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ]),
    "val": transforms.Compose([
        transforms.Grayscale(num_output_channels=1),
        transforms.Resize(SIZE),
        transforms.CenterCrop(SIZE),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ]),
}


def make_datasets(root):
    image_datasets = {x: datasets.ImageFolder(os.path.join(root, x), data_transforms[x])
                      for x in ["train", "val"]}
    class_names = image_datasets["train"].classes
    return image_datasets["train"], image_datasets["val"], class_names


def make_loaders(train_set, val_set, batch_size):
    image_datasets = {"train": train_set, "val": val_set}
    dataloaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=batch_size,
                                                  shuffle=(x == "train"), num_workers=4)
                   for x in ["train", "val"]}
    return dataloaders["train"], dataloaders["val"]
