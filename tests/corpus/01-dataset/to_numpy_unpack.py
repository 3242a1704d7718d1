"""The two named columns turned into one object array with .to_numpy() and unpacked per row.

Idiom: df[["filename", "label"]].to_numpy(), `name, target = self.data[idx]`, f-string path
Seen in: Nao8426/ML, GAN/alpha_GAN/load.py (self.img_id = df.values.tolist(), then self.img_id[i][0]); yangrongbo/SPA, loader.py (filename and label columns of the CSV read by name)
Expect: pass
"""

import pandas as pd
import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.root_dir = root_dir
        self.transform = transform
        self.data = pd.read_csv(csv_file)[["filename", "label"]].to_numpy()

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, idx):
        name, target = self.data[idx]
        img = Image.open(f"{self.root_dir}/{name}").convert("L")
        img = self.transform(img) if self.transform is not None else TF.to_tensor(img)
        return img, int(target)
