"""The current quickstart's device line: `torch.accelerator.current_accelerator().type`, else "cpu".

Idiom: `device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"` (a string such as "cuda"), `X, y = X.to(device), y.to(device)`, `pred.argmax(1)`, `.to("cpu")`
Seen in: Agents4Good/MasterChef-AI, content/destilacao/destilacao_redes_neurais/Device.py (device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu", the line the PyTorch quickstart now teaches); pytorch/tutorials, beginner_source/basics/quickstart_tutorial.py (train()/test() with X, y = X.to(device), y.to(device))
Expect: pass
"""

import torch


def get_device():
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    print(f"Using {device} device")
    return device


def setup(model, device):
    return model.to(device)


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
        X = inputs.to(device)
        pred = model(X)
    return pred.argmax(1).to("cpu")
