"""get_device() in the pytorch/examples MNIST way: CUDA, else Apple's MPS, else the CPU.

Idiom: `use_cuda = torch.cuda.is_available()`, `use_mps = torch.backends.mps.is_available()`, an if/elif/else over `torch.device("cuda")` / `torch.device("mps")` / `torch.device("cpu")`; `data, target = data.to(device), target.to(device)`; `output.argmax(dim=1)`
Seen in: pytorch/examples, mnist/main.py (main(): use_cuda / use_mps, then device = torch.device("cuda"), ("mps") or ("cpu"); train(): model.train(), data, target = data.to(device), target.to(device), zero_grad before the forward)
Expect: pass
"""

import torch


def get_device():
    use_cuda = torch.cuda.is_available()
    use_mps = hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    if use_cuda:
        device = torch.device("cuda")
    elif use_mps:
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    return device


def setup(model, device):
    return model.to(device)


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    model.train()
    data, target = inputs.to(device), targets.to(device)
    optimizer.zero_grad()
    output = model(data)
    loss = loss_fn(output, target)
    loss.backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    model.eval()
    with torch.no_grad():
        data = inputs.to(device)
        output = model(data)
        pred = output.argmax(dim=1)  # get the index of the max logit
    return pred.cpu()
