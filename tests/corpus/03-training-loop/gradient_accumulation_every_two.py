"""A loop that accumulates gradients over two batches (the large-batch trick) and so steps only every other batch.

Idiom: `accumulation_steps = 2`, `loss = loss / accumulation_steps` before backward, `if ((batch_idx + 1) % accumulation_steps == 0) or (batch_idx + 1 == len(loader)):` around step and zero_grad, the logged loss taken before the division
Seen in: kobongsoo/GPUTech, reference/gradient_accum_training_loop.py (loss / accumulation_steps, backward every batch, optimizer.step(); optimizer.zero_grad() only every accumulation_steps batches)
Expect: fails optimizer-steps
"""

import torch

accumulation_steps = 2


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for batch_idx, (inputs, targets) in enumerate(loader):
        preds = model(inputs)
        loss = loss_fn(preds, targets)
        total += loss.item()

        # normalize loss to account for batch accumulation
        (loss / accumulation_steps).backward()

        # weights update
        if ((batch_idx + 1) % accumulation_steps == 0) or (batch_idx + 1 == len(loader)):
            optimizer.step()
            optimizer.zero_grad()
    return total / len(loader)


def evaluate(model, loader, loss_fn):
    model.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            preds = model(inputs)
            total += loss_fn(preds, targets).item()
            correct += (preds.argmax(dim=1) == targets).sum().item()
    return total / len(loader), correct / len(loader.dataset)
