"""Grey conversion done by transforms.Grayscale inside the default transform only: a transform the user gives receives the file's own mode (RGB, RGBA, P...).

Idiom: default = transforms.Compose([transforms.Grayscale(num_output_channels=1), transforms.ToTensor()]), no .convert() after Image.open
Seen in: VKev/Contrastive-Weight-Kernel-Loss, util/transform.py (transforms.Compose([transforms.Grayscale(num_output_channels=1), ..., transforms.ToTensor(), ...])); ovchinnikovdk/steel_defect_detection, lib/transform.py (Grayscale(num_output_channels=1) then ToTensor in one Compose); skihyeon/DACON--AI, load_dataset.py (Image.open(img_path) passed to self.transform unconverted)
Expect: fails grayscale
"""

import os

import pandas as pd
import torch
from PIL import Image
from torchvision import transforms


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.df = pd.read_csv(csv_file)
        self.root_dir = root_dir
        if transform is None:
            transform = transforms.Compose([
                transforms.Grayscale(num_output_channels=1),
                transforms.ToTensor(),
            ])
        self.transform = transform

    def __len__(self):
        return len(self.df)

    def __getitem__(self, idx):
        image = Image.open(os.path.join(self.root_dir, self.df["filename"][idx]))
        label = int(self.df["label"][idx])
        return self.transform(image), label
