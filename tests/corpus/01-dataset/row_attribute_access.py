"""Columns read as attributes of the row Series (self.df.iloc[idx].filename), the label cast with int().

Idiom: attribute access on a pandas row, one-line docstrings in Chinese-course style, Image.open then .convert on the next line
Seen in: fx23333/Anomaly-Traffic, tools/tools/train/dataset.py (GarbageDataSet: filepath = self.df.iloc[idx].filepath; label = self.df.iloc[idx].label); yangrongbo/SPA, loader.py (img_obj = self.csv.loc[index]; img_obj['filename'], img_obj['label'])
Expect: pass
"""

import os

import pandas as pd
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms import functional as F


class CsvImageDataset(Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        """Read the CSV once; the images stay on disk."""
        self.df = pd.read_csv(csv_file)
        self.root_dir = root_dir
        self.transform = transform

    def __len__(self):
        """Number of rows of the DataFrame."""
        return len(self.df)

    def __getitem__(self, idx):
        """One (image, label) pair for row idx."""
        record = self.df.iloc[idx]
        img = Image.open(os.path.join(self.root_dir, record.filename))
        img = img.convert("L")
        if self.transform:
            img = self.transform(img)
        else:
            img = F.to_tensor(img)
        return img, int(record.label)
