"""Rows kept as the namedtuples of df.itertuples(), fields read as attributes: fine with fork, unpicklable for spawned workers.

Idiom: self.rows = list(df.itertuples(index=False)), row.filename / row.label attribute access
Seen in: fx23333/Anomaly-Traffic, tools/tools/train/dataset.py (self.df.iloc[idx].filepath / .label attribute-style row access); shinerio/alFlaw, data/TrainDataset.py (rows iterated from the DataFrame in __init__ and kept in a list on self)
Expect: fails picklable
"""

import os

import pandas as pd
import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.root_dir = root_dir
        self.transform = transform
        self.rows = list(pd.read_csv(csv_file).itertuples(index=False))

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, idx):
        row = self.rows[idx]
        img = Image.open(os.path.join(self.root_dir, row.filename)).convert("L")
        if self.transform is not None:
            img = self.transform(img)
        else:
            img = TF.to_tensor(img)
        return img, int(row.label)
