"""train_step that hands back `loss.data.cpu().numpy()`, an old habit for logging: a 0-d NumPy array, not a float.

Idiom: `loss = loss.data.cpu().numpy()` after the step (pre-0.4 PyTorch code had no `.item()`), `.to(device=device)` keyword form for the batch, `torch.no_grad()` and `.cpu()` in predict
Seen in: muhanzhang/pytorch_DGCNN, main.py (loop_dataset(): loss = loss.data.cpu().numpy() after optimizer.step(), quoted in issue #5); aladdinpersson/Machine-Learning-Collection, ML/Pytorch/Basics/pytorch_simple_CNN.py (data = data.to(device=device))
Expect: fails train-step
"""

import torch


def get_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def setup(model, device):
    return model.to(device=device)


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    data = inputs.to(device=device)
    targets = targets.to(device=device)

    optimizer.zero_grad()
    scores = model(data)
    loss = loss_fn(scores, targets)
    loss.backward()
    optimizer.step()

    loss = loss.data.cpu().numpy()
    return loss


def predict(model, inputs, device):
    model.eval()
    with torch.no_grad():
        scores = model(inputs.to(device=device))
        _, predictions = scores.max(1)
    return predictions.cpu()
