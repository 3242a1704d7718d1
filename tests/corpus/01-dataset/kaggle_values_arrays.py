"""Kaggle-notebook style: the two columns pulled out as NumPy arrays in __init__, the label wrapped in torch.tensor(..., dtype=torch.long).

Idiom: df["col"].values arrays on self, a torchvision ToTensor() object kept for the default case, 0-dim int64 tensor label
Seen in: claralb2002/Active-Machine-Learning-Assignments, miniproject2/modules/data_class.py (df.iloc[idx]['Label'] returned as torch.tensor(label, dtype=torch.long)); sakusaku3939/pytorch-sample, custom_dataset.py (data["path"], data["label"] kept as columns in __init__)
Expect: pass
"""

import os

import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms


class CsvImageDataset(Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        df = pd.read_csv(csv_file)
        self.image_ids = df["filename"].values
        self.labels = df["label"].values
        self.root_dir = root_dir
        self.transform = transform
        self.to_tensor = transforms.ToTensor()

    def __len__(self):
        return len(self.image_ids)

    def __getitem__(self, idx):
        path = os.path.join(self.root_dir, self.image_ids[idx])
        img = Image.open(path).convert("L")
        if self.transform is not None:
            img = self.transform(img)
        else:
            img = self.to_tensor(img)
        target = torch.tensor(self.labels[idx], dtype=torch.long)
        return img, target
