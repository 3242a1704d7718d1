"""Another valid style: gradients cleared after each step (and once before the loop),
`model.zero_grad(set_to_none=False)`, the loss averaged per sample, `inference_mode` in
evaluate, and the model put back in training mode afterwards."""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    model.zero_grad(set_to_none=False)
    running, seen = 0.0, 0
    for inputs, targets in loader:
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        model.zero_grad(set_to_none=False)
        running += loss.item() * len(targets)
        seen += len(targets)
    return running / seen


def evaluate(model, loader, loss_fn):
    was_training = model.training
    model.eval()
    losses = []
    hits = 0
    with torch.inference_mode():
        for inputs, targets in loader:
            logits = model(inputs)
            losses.append(loss_fn(logits, targets).item())
            hits += int((logits.argmax(1) == targets).sum())
    model.train(was_training)
    return sum(losses) / len(losses), hits / sum(len(t) for _, t in loader)
