"""The transfer-learning tutorial's dictionaries as many copies write them: both loaders made by one comprehension with shuffle=True, so the validation loader shuffles too.

Idiom: `data_transforms = {'train': Compose([...]), 'val': Compose([...])}`, `image_datasets = {x: datasets.ImageFolder(os.path.join(data_dir, x), data_transforms[x]) for x in ['train', 'val']}`, `dataloaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=4, shuffle=True, num_workers=4) for x in ['train', 'val']}`, `class_names = image_datasets['train'].classes`
Seen in: Phayuth/robotics, learning/transfer_learning/resnet/dataset_import.py (one DataLoader comprehension with shuffle=True for 'train' and 'val'); pytorch/tutorials, beginner_source/transfer_learning_tutorial.py (the dictionaries, in a version that shuffles only where x == 'train')
Expect: fails val-loader
"""

import os

import torch
from torchvision import datasets, transforms

SIZE = 16
MEAN = (0.4179,)
STD = (0.2341,)

data_transforms = {
    'train': transforms.Compose([
        transforms.Grayscale(),
        transforms.RandomCrop(SIZE, padding=3),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD)
    ]),
    'val': transforms.Compose([
        transforms.Grayscale(),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD)
    ]),
}


def make_datasets(data_dir):
    image_datasets = {x: datasets.ImageFolder(os.path.join(data_dir, x), data_transforms[x])
                      for x in ['train', 'val']}
    class_names = image_datasets['train'].classes
    return image_datasets['train'], image_datasets['val'], class_names


def make_loaders(train_set, val_set, batch_size):
    image_datasets = {'train': train_set, 'val': val_set}
    dataloaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=batch_size, shuffle=True, num_workers=4)
                   for x in ['train', 'val']}
    return dataloaders['train'], dataloaders['val']
