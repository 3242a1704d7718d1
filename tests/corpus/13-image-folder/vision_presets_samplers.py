"""torchvision's classification presets: one transform class per split, PILToTensor and ConvertImageDtype before Normalize, and loaders given explicit RandomSampler and SequentialSampler.

Idiom: `ClassificationPresetTrain(crop_size=...)` and `ClassificationPresetEval(crop_size=..., resize_size=...)` classes that build a `transforms.Compose` in `__init__` and apply it in `__call__`; `RandomResizedCrop(crop_size)` then `RandomHorizontalFlip(hflip_prob)` for training, `Resize(resize_size)` then `CenterCrop(crop_size)` for evaluation; `PILToTensor()` and `ConvertImageDtype(torch.float)` before `Normalize(mean=mean, std=std)`; `traindir = os.path.join(data_path, 'train')`; `torch.utils.data.RandomSampler(dataset)` and `SequentialSampler(dataset_test)` passed as `sampler=`
Seen in: pytorch/vision, references/classification/presets.py (ClassificationPresetTrain and ClassificationPresetEval, keyword-only crop_size, mean, std, hflip_prob); pytorch/tutorials, advanced_source/static_quantization_tutorial.rst (prepare_data_loaders: traindir/valdir, RandomSampler and SequentialSampler given to the DataLoaders)
Expect: pass
"""

import os

import torch
import torchvision
from torchvision.transforms import transforms

SIZE = 16
MEAN = (0.4179,)
STD = (0.2341,)


class ClassificationPresetTrain:
    def __init__(self, *, crop_size, mean=MEAN, std=STD, hflip_prob=0.5):
        trans = [transforms.Grayscale(), transforms.RandomResizedCrop(crop_size, scale=(0.5, 1.0))]
        if hflip_prob > 0:
            trans.append(transforms.RandomHorizontalFlip(hflip_prob))
        trans.extend([
            transforms.PILToTensor(),
            transforms.ConvertImageDtype(torch.float),
            transforms.Normalize(mean=mean, std=std),
        ])
        self.transforms = transforms.Compose(trans)

    def __call__(self, img):
        return self.transforms(img)


class ClassificationPresetEval:
    def __init__(self, *, crop_size, resize_size, mean=MEAN, std=STD):
        self.transforms = transforms.Compose([
            transforms.Grayscale(),
            transforms.Resize(resize_size),
            transforms.CenterCrop(crop_size),
            transforms.PILToTensor(),
            transforms.ConvertImageDtype(torch.float),
            transforms.Normalize(mean=mean, std=std),
        ])

    def __call__(self, img):
        return self.transforms(img)


def make_datasets(root):
    traindir = os.path.join(root, "train")
    valdir = os.path.join(root, "val")
    dataset = torchvision.datasets.ImageFolder(traindir, ClassificationPresetTrain(crop_size=SIZE))
    dataset_test = torchvision.datasets.ImageFolder(valdir, ClassificationPresetEval(crop_size=SIZE, resize_size=SIZE))
    return dataset, dataset_test, dataset.classes


def make_loaders(train_set, val_set, batch_size):
    train_sampler = torch.utils.data.RandomSampler(train_set)
    test_sampler = torch.utils.data.SequentialSampler(val_set)
    data_loader = torch.utils.data.DataLoader(train_set, batch_size=batch_size, sampler=train_sampler)
    data_loader_test = torch.utils.data.DataLoader(val_set, batch_size=batch_size, sampler=test_sampler)
    return data_loader, data_loader_test
