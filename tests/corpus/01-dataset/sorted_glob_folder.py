"""The images found by listing the folder (sorted glob) and each label looked up in a filename -> label dict built from the CSV.

Idiom: sorted(glob.glob(os.path.join(root_dir, "*.png"))) as the sample list, dict(zip(df.filename, df.label)), os.path.basename for the lookup
Seen in: Xiang1004/DLCV, HW1/hw1_1/dataset.py (glob.glob(os.path.join(root, ...'*.png')) to build the file list); Mud-Fire/LML, pytorch/TorchVisionObjectDetectionFinetuning/detection.py (self.imgs = list(sorted(os.listdir(...))))
Expect: fails items-in-csv-order
"""

import glob
import os

import pandas as pd
import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        df = pd.read_csv(csv_file)
        self.labels = dict(zip(df.filename, df.label))
        self.image_paths = sorted(glob.glob(os.path.join(root_dir, "*.png")))
        self.transform = transform

    def __len__(self):
        return len(self.image_paths)

    def __getitem__(self, idx):
        path = self.image_paths[idx]
        image = Image.open(path).convert("L")
        label = int(self.labels[os.path.basename(path)])
        if self.transform is not None:
            image = self.transform(image)
        else:
            image = TF.to_tensor(image)
        return image, label
