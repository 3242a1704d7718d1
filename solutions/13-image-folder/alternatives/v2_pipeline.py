"""Exercise 13, another valid style: torchvision's transforms.v2. The PIL image becomes a tv_tensors.Image
first (`ToImage`), the grey conversion and the augmentation (a small rotation, a flip) work on that tensor,
`ToDtype(torch.float32, scale=True)` takes the place of ToTensor's scaling, then `Normalize`. The class names
come from `class_to_idx`, inverted; the folders are joined with an f-string; keyword arguments everywhere,
and the training loader drops its last, incomplete batch.

Seen in: pytorch/vision, docs/source/transforms.rst (the "typical transformation pipeline": `v2.ToImage()`
"only needed if you had a PIL image", then the augmentation, `v2.ToDtype(torch.float32, scale=True)` "Normalize
expects float input", `v2.Normalize(mean=..., std=...)`, copied in many training scripts), and
gallery/transforms/plot_transforms_getting_started.py (`v2.RandomHorizontalFlip(p=0.5)` and
`v2.ToDtype(torch.float32, scale=True)` before `v2.Normalize` in one `v2.Compose`); training scripts that build
`ImageFolder(root=data_path + "/train/", ...)` and invert `dataset.class_to_idx` into an index-to-class map."""

import torch
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2

SIZE = 16
MEAN = (0.4179,)
STD = (0.2341,)


def make_datasets(root):
    train_transforms = v2.Compose([
        v2.ToImage(),
        v2.Grayscale(num_output_channels=1),
        v2.RandomRotation(degrees=10),
        v2.RandomHorizontalFlip(p=0.5),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=MEAN, std=STD),
    ])
    val_transforms = v2.Compose([
        v2.ToImage(),
        v2.Grayscale(num_output_channels=1),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=MEAN, std=STD),
    ])
    train_set = ImageFolder(root=f"{root}/train", transform=train_transforms)
    val_set = ImageFolder(root=f"{root}/val", transform=val_transforms)
    idx_to_class = {idx: name for name, idx in train_set.class_to_idx.items()}
    class_names = [idx_to_class[i] for i in range(len(idx_to_class))]
    return train_set, val_set, class_names


def make_loaders(train_set, val_set, batch_size):
    train_loader = DataLoader(dataset=train_set, batch_size=batch_size, shuffle=True, drop_last=True)
    val_loader = DataLoader(dataset=val_set, batch_size=batch_size)
    return train_loader, val_loader
