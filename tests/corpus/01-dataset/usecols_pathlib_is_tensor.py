"""The FaceLandmarks tutorial's pattern (torch.is_tensor(idx) guard) with pd.read_csv(usecols=...) and pathlib paths.

Idiom: read only the needed columns with usecols, `if torch.is_tensor(idx): idx = idx.tolist()`, Path / filename, row = frame.iloc[idx] then row["col"]
Seen in: pytorch/tutorials, beginner_source/data_loading_tutorial.py (FaceLandmarksDataset: torch.is_tensor(idx) guard, pd.read_csv in __init__, image read in __getitem__); KamWithK/Snaked, SnakeDataset.py (pd.read_csv(csv_path, usecols=["scientific_name", "filename"]))
Expect: pass
"""

from pathlib import Path

import pandas as pd
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import Dataset


class CsvImageDataset(Dataset):
    """Grayscale images listed in a CSV file."""

    def __init__(self, csv_file, root_dir, transform=None):
        """
        Args:
            csv_file (string): Path to the csv file with a filename and a label column.
            root_dir (string): Directory with all the images.
            transform (callable, optional): Optional transform to be applied on a PIL image.
        """
        self.frame = pd.read_csv(csv_file, usecols=["filename", "label"])
        self.root_dir = Path(root_dir)
        self.transform = transform

    def __len__(self):
        return len(self.frame)

    def __getitem__(self, idx):
        if torch.is_tensor(idx):
            idx = idx.tolist()

        row = self.frame.iloc[idx]
        image = Image.open(self.root_dir / row["filename"]).convert("L")
        label = int(row["label"])

        if self.transform is not None:
            image = self.transform(image)
        else:
            image = TF.to_tensor(image)
        return image, label
