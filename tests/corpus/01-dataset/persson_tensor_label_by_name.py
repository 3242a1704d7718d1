"""Aladdin Persson's CatsAndDogsDataset with the columns indexed by name and PIL in place of skimage.

Idiom: self.annotations = pd.read_csv(...), Series indexing self.annotations["col"][index], y_label = torch.tensor(int(...)), return (image, y_label) as a tuple
Seen in: aladdinpersson/Machine-Learning-Collection, ML/Pytorch/Basics/custom_dataset/custom_dataset.py (annotations.iloc[index, 0] / iloc[index, 1], torch.tensor(int(...)) label, transform=transforms.ToTensor()); KamWithK/Snaked, SnakeDataset.py (self.df["filename"][index] Series indexing)
Expect: pass
"""

import os

import pandas as pd
import torch
import torchvision.transforms as transforms
from PIL import Image
from torch.utils.data import Dataset


class CsvImageDataset(Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.annotations = pd.read_csv(csv_file)
        self.root_dir = root_dir
        self.transform = transform

    def __len__(self):
        return len(self.annotations)

    def __getitem__(self, index):
        img_path = os.path.join(self.root_dir, self.annotations["filename"][index])
        image = Image.open(img_path).convert("L")
        y_label = torch.tensor(int(self.annotations["label"][index]))

        if self.transform:
            image = self.transform(image)
        else:
            image = transforms.ToTensor()(image)

        return (image, y_label)
