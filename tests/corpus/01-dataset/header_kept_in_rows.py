"""All lines of csv.reader kept, header included: __getitem__ remembers to skip it (idx + 1), __len__ does not.

Idiom: self.rows = list(csv.reader(f)), column positions from self.rows[0].index(...), rows[idx + 1] in __getitem__, len(self.rows)
Seen in: daixiangzi/PRCV2019, MyDataset.py (self.content = f.readlines() kept whole, __len__ returns len(self.content), lines split by position in __getitem__); pytorch/tutorials, beginner_source/data_loading_tutorial.py (__len__ returns len() of what __init__ read)
Expect: fails length
"""

import csv
import os

import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.root_dir = root_dir
        self.transform = transform
        with open(csv_file, newline="") as f:
            self.rows = list(csv.reader(f))
        header = self.rows[0]
        self.name_col = header.index("filename")
        self.label_col = header.index("label")

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, idx):
        row = self.rows[idx + 1]  # row 0 is the header
        image = Image.open(os.path.join(self.root_dir, row[self.name_col])).convert("L")
        label = int(row[self.label_col])
        if self.transform is not None:
            image = self.transform(image)
        else:
            image = TF.to_tensor(image)
        return image, label
