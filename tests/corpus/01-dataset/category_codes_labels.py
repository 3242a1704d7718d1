"""Labels re-encoded with pandas category codes, so the classes become 0..k-1 in sorted order instead of the CSV's values.

Idiom: df["label"].astype("category").cat.codes to get "class indices", the codes (int8) returned as the label
Seen in: KamWithK/Snaked, SnakeDataset.py (self.df["scientific_name"].astype("category"), self.df["species_num"] = ...cat.codes, number.astype("long")); carlbalmer/DeepLearningGroupTasks, Project/dataset/DOGS.py (LabelEncoder().fit_transform(tmp_df['breed']) as the labels)
Expect: fails labels
"""

import os

import pandas as pd
import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import Dataset


class CsvImageDataset(Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.df = pd.read_csv(csv_file)
        # class indices for CrossEntropyLoss must be 0..num_classes-1
        self.df["label"] = self.df["label"].astype("category")
        self.df["label_idx"] = self.df["label"].cat.codes
        self.num_classes = len(self.df["label"].cat.categories)
        self.root_dir = root_dir
        self.transform = transform

    def __len__(self):
        return len(self.df.index)

    def __getitem__(self, index):
        img = Image.open(os.path.join(self.root_dir, self.df["filename"][index])).convert("L")
        if self.transform is not None:
            img = self.transform(img)
        else:
            img = TF.to_tensor(img)
        number = self.df["label_idx"][index]
        return img, int(number)
