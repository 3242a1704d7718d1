"""skimage-tutorial habit: the image turned into a NumPy array before the transform, so a given transform receives an ndarray, not the PIL image.

Idiom: image = np.array(Image.open(path).convert("L")), then self.transform(image) / transforms.ToTensor()(image) on the array
Seen in: pytorch/tutorials, beginner_source/data_loading_tutorial.py (image = io.imread(img_name): the transform gets a NumPy array); aladdinpersson/Machine-Learning-Collection, ML/Pytorch/Basics/custom_dataset/custom_dataset.py (image = io.imread(img_path); self.transform(image)); HamzaKhan11111/Predicting-Weights-using-images-of-Fruit-Boxes, Dataset.py (np.array(Image.open(...).convert("RGB")))
Expect: fails transform-applied
"""

import os

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torchvision import transforms


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.annotations = pd.read_csv(csv_file)
        self.root_dir = root_dir
        self.transform = transform

    def __len__(self):
        return len(self.annotations)

    def __getitem__(self, index):
        img_path = os.path.join(self.root_dir, self.annotations["filename"][index])
        image = np.array(Image.open(img_path).convert("L"))
        y_label = int(self.annotations["label"][index])

        if self.transform:
            image = self.transform(image)
        else:
            image = transforms.ToTensor()(image)

        return image, y_label
