"""Dive into Deep Learning's try_gpu(i=0) as get_device, and the device read back from the model's parameters.

Idiom: `if torch.cuda.device_count() >= i + 1: return torch.device(f'cuda:{i}')`, `net.to(device)`, `X, y = X.to(device), y.to(device)`, and in predict `device = next(iter(net.parameters())).device` as in evaluate_accuracy_gpu
Seen in: d2l-ai/d2l-en, d2l/torch.py (try_gpu() via torch.cuda.device_count(); evaluate_accuracy_gpu() takes the device from next(iter(net.parameters())).device, net.eval(), torch.no_grad(); train_ch6() moves X and y with .to(device))
Expect: pass
"""

import torch


def try_gpu(i=0):
    """Return gpu(i) if exists, otherwise return cpu()."""
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def get_device():
    return try_gpu()


def setup(model, device):
    net = model
    net.to(device)
    return net


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    net, X, y = model, inputs, targets
    net.train()
    optimizer.zero_grad()
    X, y = X.to(device), y.to(device)
    y_hat = net(X)
    l = loss_fn(y_hat, y)
    l.backward()
    optimizer.step()
    return float(l)


def predict(model, inputs, device=None):
    net = model
    if isinstance(net, torch.nn.Module):
        net.eval()  # Set the model to evaluation mode
        if not device:
            device = next(iter(net.parameters())).device
    with torch.no_grad():
        y_hat = net(inputs.to(device))
    return y_hat.argmax(axis=1).to("cpu")
