"""The torchvision.transforms.v2 replacement for ToTensor (ToImage + ToDtype(scale=True)) as the default transform.

Idiom: v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]) kept on self as the default, `.item()` on the label read from a Series
Seen in: pytorch/vision, torchvision/transforms/v2/_deprecated.py (v2.ToTensor deprecated: "Use v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]) instead ... Output is equivalent up to float precision"); sakusaku3939/pytorch-sample, custom_dataset.py (image_paths = data["path"], labels = data["label"] kept as Series, indexed in __getitem__)
Expect: pass
"""

import os

import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms import v2


class CsvImageDataset(Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        data = pd.read_csv(csv_file)
        self.image_paths = data["filename"]
        self.labels = data["label"]
        self.root_dir = root_dir
        if transform is None:
            transform = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
        self.transform = transform

    def __len__(self):
        return len(self.image_paths)

    def __getitem__(self, index):
        img = Image.open(os.path.join(self.root_dir, self.image_paths[index])).convert("L")
        img = self.transform(img)
        label = self.labels[index].item()
        return img, label
