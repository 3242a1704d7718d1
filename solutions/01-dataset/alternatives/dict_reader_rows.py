"""Another valid style: csv.DictReader rows kept as dicts, pathlib paths, and a named (picklable)
default transform stored on self."""

import csv
from pathlib import Path

import torch
import torchvision.transforms.functional as TF
from PIL import Image


def to_tensor(image):
    return TF.to_tensor(image)


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.root = Path(root_dir)
        self.transform = transform or to_tensor
        with open(csv_file, encoding="utf-8") as f:
            self.rows = [dict(row) for row in csv.DictReader(f)]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, idx):
        row = self.rows[idx]
        pil = Image.open(self.root / row["filename"]).convert("L")
        return self.transform(pil), int(row["label"])
