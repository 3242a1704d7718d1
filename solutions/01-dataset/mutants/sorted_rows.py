"""Mutant: sorts the rows by filename, losing the CSV order."""

import csv
import os

import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    """Grayscale images listed in a CSV file (columns `filename` and `label`), read one at a time."""

    def __init__(self, csv_file, root_dir, transform=None):
        self.root_dir = root_dir
        self.transform = transform
        self.samples = []
        with open(csv_file, newline="") as f:
            for row in csv.DictReader(f):
                self.samples.append((row["filename"], int(row["label"])))

        self.samples.sort()

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, idx):
        filename, label = self.samples[idx]
        image = Image.open(os.path.join(self.root_dir, filename)).convert("L")
        if self.transform is not None:
            image = self.transform(image)
        else:
            image = TF.to_tensor(image)
        return image, label
