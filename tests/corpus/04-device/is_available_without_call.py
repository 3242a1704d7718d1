"""get_device() that tests `torch.cuda.is_available` without calling it: the function object is always truthy.

Idiom: `torch.device("cuda" if torch.cuda.is_available else "cpu")` (missing parentheses), everything else device-agnostic and correct
Seen in: penguin1109/DACON_LightImageAI, main.py (device = torch.device("cuda:0" if torch.cuda.is_available), the check written without the call)
Expect: fails get-device
"""

import torch


def get_device():
    return torch.device("cuda" if torch.cuda.is_available else "cpu")


def setup(model, device):
    return model.to(device)


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    inputs, targets = inputs.to(device), targets.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    model.eval()
    with torch.no_grad():
        logits = model(inputs.to(device))
    return logits.argmax(dim=1).cpu()
