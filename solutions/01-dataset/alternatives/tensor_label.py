"""Another valid style: lines parsed by hand, torchvision's ToTensor() object stored as the default
transform, and the label returned as a 0-dim int64 tensor."""

import os

import torch
from PIL import Image
from torchvision import transforms


class CsvImageDataset(torch.utils.data.Dataset):
    def __init__(self, csv_file, root_dir, transform=None):
        self.root_dir = root_dir
        self.transform = transform if transform is not None else transforms.ToTensor()
        with open(csv_file) as f:
            lines = [line.strip() for line in f.read().splitlines() if line.strip()]
        columns = lines[0].split(",")
        self.filenames, self.labels = [], []
        for line in lines[1:]:
            record = dict(zip(columns, line.split(",")))
            self.filenames.append(record["filename"])
            self.labels.append(int(record["label"]))

    def __len__(self):
        return len(self.filenames)

    def __getitem__(self, idx):
        image = Image.open(os.path.join(self.root_dir, self.filenames[idx]))
        image = image.convert("L")
        return self.transform(image), torch.tensor(self.labels[idx])
