"""The official data tutorial's CustomImageDataset, with PIL instead of read_image and the columns looked up by name.

Idiom: pd.read_csv kept as self.img_labels, an extra target_transform keyword, `if self.transform:` truthiness, .loc[idx, "column"]
Seen in: pytorch/tutorials, beginner_source/basics/data_tutorial.py (CustomImageDataset: pd.read_csv, os.path.join(self.img_dir, ...), transform and target_transform); DavidHoernke/SnoutNet-Nose-Recognition, SnoutNetProj/dataset.py (the same class copied into a student project)
Expect: pass
"""

import os

import pandas as pd
import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None, target_transform=None):
        self.img_labels = pd.read_csv(csv_file)
        self.img_dir = root_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        img_path = os.path.join(self.img_dir, self.img_labels.loc[idx, "filename"])
        image = Image.open(img_path).convert("L")
        label = int(self.img_labels.loc[idx, "label"])
        if self.transform:
            image = self.transform(image)
        else:
            image = TF.to_tensor(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label
