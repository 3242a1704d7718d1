"""Exercise 1: a Dataset that reads images listed in a CSV file.

Write the three methods of `CsvImageDataset`. Each one raises NotImplementedError for now: replace
that line with your code. `grade exercise 1` tells you what the checks observe, `grade hint 1` helps.
"""

import csv
import os

import torch
import torchvision.transforms.functional as TF
from PIL import Image


class CsvImageDataset(torch.utils.data.Dataset):
    """Grayscale images listed in a CSV file, with one integer label each.

    The CSV file starts with a header row. Two of its columns matter: `filename` (the image's path,
    relative to `root_dir`) and `label` (a whole number). The columns can come in any order and
    there may be others; look them up by their names. The images may be stored in any PIL mode
    (colour, with transparency, 16-bit...).

    Example:
        dataset = CsvImageDataset("data/labels.csv", "data/images")
        image, label = dataset[0]   # image: a float32 tensor of shape [1, H, W]; label: an int
    """

    def __init__(self, csv_file, root_dir, transform=None):
        """Read the CSV file and remember, for every row in order, its filename and its label.

        Do not open any image here: a real data set may not fit in memory. `__getitem__` reads one
        image each time it is asked for one. Keep only plain data on `self` (strings, numbers,
        lists, the transform you were given): no open files, so that the dataset can be copied
        into DataLoader worker processes.
        """
        raise NotImplementedError("read the CSV file in __init__")

    def __len__(self):
        """The number of images: one per data row of the CSV (the header row is not an image)."""
        raise NotImplementedError("return the number of rows")

    def __getitem__(self, idx):
        """Return `(image, label)` for the CSV's row number `idx` (0 is the first row after the header).

        - Open the file with `Image.open(...)` and convert it to one channel with `.convert("L")`.
        - If a `transform` was given, return `transform(pil_image)` as the image.
        - Otherwise return `TF.to_tensor(pil_image)`: a float32 tensor of shape [1, H, W] in [0, 1].
        - The label is a Python `int`.
        """
        raise NotImplementedError("load and return one (image, label) pair")
