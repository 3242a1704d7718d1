"""Another valid style: csv.reader with the column positions looked up in the header, a list of
(path, label) tuples, and `with Image.open(...) as img` so the file is closed at once."""

import csv
import os

import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.transform = transform
        with open(csv_file, newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            name_col, label_col = header.index("filename"), header.index("label")
            self.items = [(os.path.join(root_dir, line[name_col]), int(line[label_col])) for line in reader if line]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        path, label = self.items[idx]
        with Image.open(path) as img:
            img = img.convert("L")
        if self.transform:
            return self.transform(img), label
        return TF.to_tensor(img), label
