"""Exercise 3, another valid style: the model called as model.forward(x), a tqdm progress bar over the
loader, the loss averaged over samples (loss * batch size, divided by the dataset's length), zero_grad
after the step, and evaluation under torch.inference_mode()."""

import torch
from tqdm import tqdm


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    running_loss, seen = 0.0, 0
    for inputs, targets in tqdm(loader, desc="train", leave=False):
        outputs = model.forward(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        running_loss += loss.item() * inputs.size(0)
        seen += inputs.size(0)
    return running_loss / seen


def evaluate(model, loader, loss_fn):
    model.eval()
    running_loss, correct = 0.0, 0
    with torch.inference_mode():
        for inputs, targets in tqdm(loader, desc="eval", leave=False):
            outputs = model.forward(inputs)
            running_loss += loss_fn(outputs, targets).item() * len(targets)
            correct += outputs.argmax(1).eq(targets).sum().item()
    return running_loss / len(loader.dataset), correct / len(loader.dataset)
