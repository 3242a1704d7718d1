"""Exercise 12, another valid style: the head's width written out (512, resnet18's), the optimizer given
`model.fc.parameters()` directly, and the BatchNorm layers found by class name through `model.apply`.

Seen in: PyTorch's tutorial "A Gentle Introduction to torch.autograd", section "Exclusion from the DAG"
(copied in renyuehe/python-Lesson and daicver/PytorchNote 2.finetune.py): freeze every parameter,
`model.fc = nn.Linear(512, 10)`, `optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9)`; and
msight-tech/research-ms-loss ret_benchmark/utils/freeze_bn.py: a `set_bn_eval(m)` that checks
`m.__class__.__name__` for "BatchNorm", used as `model.apply(set_bn_eval)`."""

import torchvision
from torch import nn, optim


def build_model(num_classes):
    model = torchvision.models.resnet18(weights=None)
    # Freeze all the parameters in the network
    for param in model.parameters():
        param.requires_grad = False
    # Parameters of a newly built layer have requires_grad=True by default
    model.fc = nn.Linear(512, num_classes)
    return model


def make_optimizer(model):
    # Optimize only the classifier
    return optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9)


def set_bn_eval(m):
    classname = m.__class__.__name__
    if classname.find("BatchNorm") != -1:
        m.eval()


def set_train_mode(model):
    model.train()
    model.apply(set_bn_eval)
