"""A Kaggle-notebook style loop with tqdm progress bars and the loss averaged per sample.

Idiom: `tqdm(loader, desc=..., leave=False)` with `set_postfix`, `optimizer.zero_grad(set_to_none=True)`, `running_loss += loss.item() * inputs.size(0)` divided by `len(loader.dataset)`, `torch.sum(preds == labels).item()`
Seen in: pytorch/tutorials, beginner_source/transfer_learning_tutorial.py (running_loss += loss.item() * inputs.size(0), divided by the dataset size); aladdinpersson/Machine-Learning-Collection, ML/Pytorch/Basics/pytorch_progress_bar.py (loop = tqdm(loader) with set_description/set_postfix)
Expect: pass
"""

import torch
from tqdm import tqdm


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    running_loss = 0.0
    pbar = tqdm(loader, desc="train", leave=False)
    for inputs, labels in pbar:
        optimizer.zero_grad(set_to_none=True)
        outputs = model(inputs)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()

        running_loss += loss.item() * inputs.size(0)
        pbar.set_postfix(loss=f"{loss.item():.4f}")
    return running_loss / len(loader.dataset)


def evaluate(model, loader, loss_fn):
    model.eval()
    running_loss = 0.0
    running_corrects = 0
    with torch.no_grad():
        for inputs, labels in tqdm(loader, desc="valid", leave=False):
            outputs = model(inputs)
            loss = loss_fn(outputs, labels)
            _, preds = torch.max(outputs, 1)
            running_loss += loss.item() * inputs.size(0)
            running_corrects += torch.sum(preds == labels).item()
    n = len(loader.dataset)
    return running_loss / n, running_corrects / n
