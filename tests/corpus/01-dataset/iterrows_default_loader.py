"""A (path, label) list built with df.iterrows() and a module-level default_loader, in the style of torchvision's ImageFolder.

Idiom: `for index, row in df.iterrows(): imgs.append(...)`, a `loader=default_loader` keyword with a named function (picklable), paths joined in __init__
Seen in: shinerio/alFlaw, data/TrainDataset.py (for index, row in label_list.iterrows(): imgs.append((row['img_path'], row['label']))); zhcv/summary, torch-ml/dataload_torch.py (def default_loader(path): return Image.open(path).convert('RGB'); MyDataset(..., loader=default_loader))
Expect: pass
"""

import os

import pandas as pd
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import Dataset


def default_loader(path):
    return Image.open(path).convert("L")


class CsvImageDataset(Dataset):
    def __init__(self, csv_file, root_dir, transform=None, loader=default_loader):
        label_list = pd.read_csv(csv_file)
        imgs = []
        for index, row in label_list.iterrows():
            imgs.append((os.path.join(root_dir, row["filename"]), int(row["label"])))
        self.imgs = imgs
        self.transform = transform
        self.loader = loader

    def __getitem__(self, index):
        filename, label = self.imgs[index]
        img = self.loader(filename)
        if self.transform is not None:
            img = self.transform(img)
        else:
            img = TF.to_tensor(img)
        return img, label

    def __len__(self):
        return len(self.imgs)
