"""Every file opened with Image.open in __init__ ("it is lazy, so it is cheap"), the open image objects kept on self and converted in __getitem__.

Idiom: self.images = [Image.open(path) for path in ...] in __init__, .convert("L") on the stored object in __getitem__
Seen in: suzyi/python, commonErrors.md ("OSError: [Errno 24] Too many open files" from self.images.append(Image.open(path_to_image)) in a loop); zhcv/summary, torch-ml/dataload_torch.py (the loader that opens the file in __getitem__, the pattern this code departs from)
Expect: fails lazy-loading
"""

import os

import pandas as pd
import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        annotations = pd.read_csv(csv_file)
        self.labels = annotations["label"].tolist()
        # Image.open only reads the header, the pixels are decoded when they are needed
        self.images = [Image.open(os.path.join(root_dir, name)) for name in annotations["filename"]]
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, idx):
        image = self.images[idx].convert("L")
        if self.transform is not None:
            image = self.transform(image)
        else:
            image = TF.to_tensor(image)
        return image, self.labels[idx]
