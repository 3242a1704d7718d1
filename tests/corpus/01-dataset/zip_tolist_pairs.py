"""Jovian-course style: the DataFrame reduced to a list of (filename, label) pairs with .tolist(), ToTensor() as the stored default.

Idiom: list(zip(df[...].tolist(), df[...].tolist())), `self.transform = transform or transforms.ToTensor()`, tuple unpacking in __getitem__
Seen in: HamzaKhan11111/Predicting-Weights-using-images-of-Fruit-Boxes, Dataset.py (csv.iloc[:,0].tolist() and csv.iloc[:,1].tolist() kept as lists); shinerio/alFlaw, data/TrainDataset.py (a list of (img_path, label) tuples built in __init__, unpacked in __getitem__)
Expect: pass
"""

import os

import pandas as pd
import torch
from PIL import Image
from torchvision import transforms


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        frame = pd.read_csv(csv_file)
        self.root_dir = root_dir
        self.samples = list(zip(frame["filename"].tolist(), frame["label"].tolist()))
        self.transform = transform or transforms.ToTensor()

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        fname, label = self.samples[index]
        img = Image.open(os.path.join(self.root_dir, fname))
        img = img.convert("L")
        return self.transform(img), label
