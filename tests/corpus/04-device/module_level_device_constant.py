"""The device decided once at import time, in a module-level constant that get_device() returns.

Idiom: `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")` at the top of the file, as in most tutorials and scripts, wrapped in a get_device() that just returns it; `X, y = X.to(device), y.to(device)`
Seen in: open-mmlab/mmengine, mmengine/device/utils.py (DEVICE computed when the module is imported; get_device() returns DEVICE); aladdinpersson/Machine-Learning-Collection, ML/Pytorch/Basics/pytorch_simple_CNN.py (module-level device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')); pytorch/tutorials, beginner_source/basics/quickstart_tutorial.py (module-level device, X, y = X.to(device), y.to(device))
Expect: pass
"""

import torch

# Get cpu or gpu device for training.
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def get_device():
    return DEVICE


def setup(model, device):
    model = model.to(device)
    return model


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    X, y = inputs.to(device), targets.to(device)

    # Compute prediction error
    pred = model(X)
    loss = loss_fn(pred, y)

    # Backpropagation
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    model.eval()
    with torch.no_grad():
        pred = model(inputs.to(device))
    return pred.argmax(1).cpu()
