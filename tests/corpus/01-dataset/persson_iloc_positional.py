"""Aladdin Persson's CatsAndDogsDataset as published: the filename and label taken by column position with iloc.

Idiom: self.annotations.iloc[index, 0] for the path and iloc[index, 1] for the label, torch.tensor(int(...)) label, PIL instead of skimage.io
Seen in: aladdinpersson/Machine-Learning-Collection, ML/Pytorch/Basics/custom_dataset/custom_dataset.py (img_path = os.path.join(self.root_dir, self.annotations.iloc[index, 0]); y_label = torch.tensor(int(self.annotations.iloc[index, 1]))); pytorch/tutorials, beginner_source/basics/data_tutorial.py (self.img_labels.iloc[idx, 0] and iloc[idx, 1])
Expect: fails csv-columns
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
        img_path = os.path.join(self.root_dir, self.annotations.iloc[index, 0])
        image = Image.open(img_path).convert("L")
        y_label = torch.tensor(int(self.annotations.iloc[index, 1]))

        if self.transform:
            image = self.transform(image)
        else:
            image = transforms.ToTensor()(image)

        return (image, y_label)
