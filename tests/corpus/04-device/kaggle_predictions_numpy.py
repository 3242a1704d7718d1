"""A Kaggle inference habit: predictions brought back with `.detach().cpu().numpy()`, so predict returns a NumPy array.

Idiom: `preds = outputs.argmax(1).detach().cpu().numpy()` as in every "make a submission" cell (the array goes straight into a DataFrame); `x, y = x.to(device), y.to(device)`; `torch.device("cuda:0" if ... else "cpu")`
Seen in: muhanzhang/pytorch_DGCNN, main.py (loop_dataset(): results pulled back with .data.cpu().numpy(), quoted in issue #5); pytorch/tutorials, beginner_source/transfer_learning_tutorial.py (device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu"))
Expect: fails predict-on-cpu
"""

import torch


def get_device():
    return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def setup(model, device):
    return model.to(device)


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    model.train()
    x, y = inputs.to(device), targets.to(device)
    optimizer.zero_grad()
    outputs = model(x)
    loss = loss_fn(outputs, y)
    loss.backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    model.eval()
    with torch.no_grad():
        outputs = model(inputs.to(device))
    preds = outputs.argmax(1).detach().cpu().numpy()
    return preds
