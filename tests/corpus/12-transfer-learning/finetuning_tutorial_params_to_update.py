"""The fine-tuning tutorial's feature extraction: a `set_parameter_requires_grad` helper, `num_ftrs`, the optimizer's list collected where `requires_grad` is True; BatchNorm frozen by a helper over `model.modules()`.

Idiom: `set_parameter_requires_grad(model, feature_extracting)`, `num_ftrs = model.fc.in_features`, `model.fc = nn.Linear(num_ftrs, num_classes)`, `params_to_update` built by a loop over `named_parameters()` where `param.requires_grad == True`, `optim.SGD(params_to_update, lr=0.001, momentum=0.9)`; `freeze_batch_norm(model)` calling `.eval()` on every `nn.BatchNorm2d`
Seen in: pytorch/tutorials, beginner_source/finetuning_torchvision_models_tutorial.py (feature extraction with set_parameter_requires_grad and params_to_update); pytorch/vision, references/depth/stereo/utils/norm.py (freeze_batch_norm over model.modules())
Expect: pass
"""

import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import models


def set_parameter_requires_grad(model, feature_extracting):
    if feature_extracting:
        for param in model.parameters():
            param.requires_grad = False


def build_model(num_classes):
    model_ft = models.resnet18(weights=None)
    set_parameter_requires_grad(model_ft, feature_extracting=True)
    num_ftrs = model_ft.fc.in_features
    model_ft.fc = nn.Linear(num_ftrs, num_classes)
    return model_ft


def make_optimizer(model):
    params_to_update = []
    for name, param in model.named_parameters():
        if param.requires_grad == True:  # noqa: E712 - as the tutorial writes it
            params_to_update.append(param)
    return optim.SGD(params_to_update, lr=0.001, momentum=0.9)


def freeze_batch_norm(model):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()


def set_train_mode(model):
    model.train()
    freeze_batch_norm(model)
