"""A row taken with df.iloc[idx] and its label returned as pandas gives it (a numpy.int64, not a Python int).

Idiom: self.df.iloc[idx]['column'] for both fields, no int() around the label
Seen in: claralb2002/Active-Machine-Learning-Assignments, miniproject2/modules/data_class.py (image_path = self.df.iloc[idx]['image_path']; label = self.df.iloc[idx]['label'], returned unconverted); skihyeon/DACON--AI, load_dataset.py (label = self.df['label'].iloc[idx] returned as is)
Expect: pass
"""

import os

import pandas as pd
import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import Dataset


class CsvImageDataset(Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.df = pd.read_csv(csv_file)
        self.root_dir = root_dir
        self.transform = transform

    def __len__(self):
        return len(self.df)

    def __getitem__(self, idx):
        image_path = os.path.join(self.root_dir, self.df.iloc[idx]["filename"])
        label = self.df.iloc[idx]["label"]
        image = Image.open(image_path).convert("L")

        if self.transform:
            image = self.transform(image)
        else:
            image = TF.to_tensor(image)

        return image, label
