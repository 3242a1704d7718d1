"""train_step written like the quickstart's train(): the batch moved to the device chosen at the top of the file, not to the one train_step is given.

Idiom: a module-level `device = "cuda" if torch.cuda.is_available() else "cpu"`, and inside the step `X, y = X.to(device), y.to(device)` reading that global; train_step's own device argument renamed and unused
Seen in: pytorch/tutorials, beginner_source/basics/quickstart_tutorial.py (module-level `device`, used by train(dataloader, model, loss_fn, optimizer) without being passed)
Expect: fails inputs-on-device
"""

import torch

device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"Using {device} device")


def get_device():
    return torch.device(device)


def setup(model, device):
    return model.to(device)


def train_step(model, inputs, targets, loss_fn, optimizer, _device):
    X, y = inputs.to(device), targets.to(device)

    pred = model(X)
    loss = loss_fn(pred, y)

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    model.eval()
    with torch.no_grad():
        pred = model(inputs.to(device))
    return pred.argmax(1).cpu()
