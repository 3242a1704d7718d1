"""The Udacity transfer-learning notebook's GPU loop, calling `model.forward(inputs)` directly.

Idiom: `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")` inside the function, `inputs, labels = inputs.to(device), labels.to(device)`, `logps = model.forward(inputs)`, `ps.topk(1, dim=1)` for the prediction, `top_class.view(-1)` to flatten it
Seen in: udacity/deep-learning-v2-pytorch, intro-to-pytorch/Part 8 - Transfer Learning (Solution).ipynb (model.to(device); inputs, labels = inputs.to(device), labels.to(device); logps = model.forward(inputs); top_p, top_class = ps.topk(1, dim=1)); udacity/deep-learning-v2-pytorch, intro-to-pytorch/fc_model.py (output = model.forward(images))
Expect: pass
"""

import torch


def get_device():
    # Use GPU if it's available
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return device


def setup(model, device):
    model.to(device)
    return model


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    criterion = loss_fn
    # Move input and label tensors to the default device
    inputs, labels = inputs.to(device), targets.to(device)

    optimizer.zero_grad()

    logps = model.forward(inputs)
    loss = criterion(logps, labels)
    loss.backward()
    optimizer.step()

    return loss.item()


def predict(model, inputs, device):
    model.eval()
    with torch.no_grad():
        inputs = inputs.to(device)
        logps = model.forward(inputs)
        ps = torch.softmax(logps, dim=1)
        top_p, top_class = ps.topk(1, dim=1)
    return top_class.view(-1).cpu()
