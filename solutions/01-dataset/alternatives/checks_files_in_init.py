"""Another valid style: __init__ checks that every listed file is an image it can open (reading only
its header, `Image.open` is lazy), and __getitem__ still reads the pixels each time."""

import csv
from pathlib import Path

import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import Dataset


class CsvImageDataset(Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.root = Path(root_dir)
        self.transform = transform
        with open(csv_file, newline="") as f:
            rows = list(csv.DictReader(f))
        self.files = [row["filename"] for row in rows]
        self.labels = [int(row["label"]) for row in rows]
        for name in self.files:
            with Image.open(self.root / name) as img:
                if img.width == 0 or img.height == 0:
                    raise ValueError(f"{name} is an empty image")

    def __len__(self):
        return len(self.files)

    def __getitem__(self, idx):
        with Image.open(self.root / self.files[idx]) as img:
            image = img.convert("L")
        return (self.transform or TF.to_tensor)(image), self.labels[idx]
