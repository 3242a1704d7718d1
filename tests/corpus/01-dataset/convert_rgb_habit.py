"""ImageNet-habit dataset: every image converted with .convert('RGB') (copied from colour-image code) instead of 'L'.

Idiom: Image.open(path).convert('RGB') right after opening, pandas row lookup by column name
Seen in: yangrongbo/SPA, loader.py (pil_img = Image.open(img_path).convert('RGB') with img_obj['filename'], img_obj['label']); claralb2002/Active-Machine-Learning-Assignments, miniproject2/modules/data_class.py (Image.open(image_path).convert('RGB'))
Expect: fails grayscale
"""

import os

import pandas as pd
from PIL import Image
from torch.utils import data
from torchvision import transforms as T


class CsvImageDataset(data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.dir = root_dir
        self.csv = pd.read_csv(csv_file)
        self.transforms = transform

    def __getitem__(self, index):
        img_obj = self.csv.loc[index]
        filename = img_obj["filename"]
        label = int(img_obj["label"])
        pil_img = Image.open(os.path.join(self.dir, filename)).convert("RGB")
        if self.transforms:
            data_ = self.transforms(pil_img)
        else:
            data_ = T.ToTensor()(pil_img)
        return data_, label

    def __len__(self):
        return len(self.csv)
