"""Label wrapped as torch.LongTensor([label]): a tensor of shape [1], so a batch of labels is [N, 1].

Idiom: label = int(label); label = torch.LongTensor([label]) before returning
Seen in: (exact-string search of public code; the index named no repository) two Dataset classes with `label = int(label)` then `label = torch.LongTensor([label])`, returned as `[img, label]`; pytorch/tutorials, beginner_source/basics/data_tutorial.py (the rest of the class: pd.read_csv, os.path.join, transform)
Expect: fails labels
"""

import os

import pandas as pd
import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.img_labels = pd.read_csv(csv_file)
        self.img_dir = root_dir
        self.transform = transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        img_path = os.path.join(self.img_dir, self.img_labels["filename"].iloc[idx])
        image = Image.open(img_path).convert("L")
        label = int(self.img_labels["label"].iloc[idx])
        label = torch.LongTensor([label])
        if self.transform:
            image = self.transform(image)
        else:
            image = TF.to_tensor(image)
        return image, label
