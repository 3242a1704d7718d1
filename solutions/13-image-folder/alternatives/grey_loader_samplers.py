"""Exercise 13, another valid style: ImageFolder given a `loader` that opens each file as one grey channel
("L"), so no Grayscale step is needed; pathlib paths; a random affine shift and rotation with a brightness
jitter as augmentation; the class names found as ImageFolder itself finds them (the sorted names of the
sub-folders); and loaders given explicit samplers instead of `shuffle`.

Seen in: wtychn/DeepLearning, test.py (a `pil_loader(path)` returning `img.convert('L')`, passed, in a line
left commented out, as `dset.ImageFolder(..., loader=pil_loader, ...)`); pytorch/vision,
torchvision/datasets/folder.py (`DatasetFolder.find_classes`: the sorted `entry.name` of `os.scandir(directory)`
where `entry.is_dir()`); pytorch/tutorials,
advanced_source/static_quantization_tutorial.rst (`prepare_data_loaders`: `torch.utils.data.RandomSampler(dataset)`
and `SequentialSampler(dataset_test)` passed as `sampler=`)."""

import os
from pathlib import Path

import torch
from PIL import Image
from torchvision import datasets, transforms

SIZE = 16
MEAN = (0.4179,)
STD = (0.2341,)


def grey_loader(path):
    with open(path, "rb") as f:
        img = Image.open(f)
        return img.convert("L")


def make_datasets(root):
    root = Path(root)
    normalize = transforms.Normalize(mean=MEAN, std=STD)
    train_dir = root / "train"
    train_set = datasets.ImageFolder(
        train_dir,
        transforms.Compose([
            transforms.RandomAffine(degrees=8, translate=(0.1, 0.1)),
            transforms.ColorJitter(brightness=0.2),
            transforms.ToTensor(),
            normalize,
        ]),
        loader=grey_loader,
    )
    val_set = datasets.ImageFolder(root / "val", transforms.Compose([transforms.ToTensor(), normalize]),
                                   loader=grey_loader)
    class_names = sorted(entry.name for entry in os.scandir(train_dir) if entry.is_dir())
    return train_set, val_set, class_names


def make_loaders(train_set, val_set, batch_size):
    train_sampler = torch.utils.data.RandomSampler(train_set)
    val_sampler = torch.utils.data.SequentialSampler(val_set)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=batch_size, sampler=train_sampler)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=batch_size, sampler=val_sampler)
    return train_loader, val_loader
