"""The CIFAR-10 blitz tutorial's GPU section: "cuda:0", data[0].to(device), torch.max(outputs.data, 1).

Idiom: `torch.device("cuda:0" if torch.cuda.is_available() else "cpu")`, `net.to(device)` without using its return value, `inputs, labels = data[0].to(device), data[1].to(device)`, `_, predicted = torch.max(outputs.data, 1)`, `predicted.cpu()`
Seen in: pytorch/tutorials, beginner_source/blitz/cifar10_tutorial.py (device = torch.device("cuda:0" if ...), net.to(device), inputs, labels = data[0].to(device), data[1].to(device), _, predicted = torch.max(outputs.data, 1) under torch.no_grad())
Expect: pass
"""

import torch


def get_device():
    # Let's first define our device as the first visible cuda device if we have CUDA available
    return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def setup(model, device):
    net = model
    net.to(device)
    return net


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    net, criterion = model, loss_fn
    data = (inputs, targets)
    inputs, labels = data[0].to(device), data[1].to(device)

    # zero the parameter gradients
    optimizer.zero_grad()

    # forward + backward + optimize
    outputs = net(inputs)
    loss = criterion(outputs, labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    net = model
    net.eval()
    with torch.no_grad():
        images = inputs.to(device)
        outputs = net(images)
        _, predicted = torch.max(outputs.data, 1)
    return predicted.cpu()
