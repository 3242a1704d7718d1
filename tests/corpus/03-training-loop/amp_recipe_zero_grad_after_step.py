"""Gradients cleared at the end of each iteration, after the step, as the AMP recipe and Jovian's fit() do.

Idiom: forward, loss, backward, `optimizer.step()`, then `optimizer.zero_grad()` as the last line of the loop body (no clearing before the loop); lists of batch losses averaged with statistics.mean
Seen in: pytorch/tutorials, recipes_source/recipes/amp_recipe.py (default-precision loop: loss.backward(); opt.step(); opt.zero_grad()); Photon-AI-Research/InSituML, main/ModelHelpers/ModelOperationHelper.py (Jovian-style fit(): loss.backward(); optimizer.step(); optimizer.zero_grad())
Expect: pass
"""

import statistics

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    batch_losses = []
    for inputs, targets in loader:
        output = model(inputs)
        loss = loss_fn(output, targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()  # set_to_none=True here can modestly improve performance
        batch_losses.append(loss.item())
    return statistics.mean(batch_losses)


def evaluate(model, loader, loss_fn):
    model.eval()
    batch_losses = []
    n_correct, n_seen = 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            output = model(inputs)
            batch_losses.append(loss_fn(output, targets).item())
            n_correct += int((output.argmax(dim=1) == targets).sum())
            n_seen += targets.numel()
    return statistics.mean(batch_losses), n_correct / n_seen
