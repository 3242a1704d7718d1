"""A Jovian fit_cycle-style loop that clips each gradient element to ±0.1 with clip_grad_value_ before stepping.

Idiom: `if grad_clip: nn.utils.clip_grad_value_(model.parameters(), grad_clip)` with `grad_clip = 0.1` between backward and step, `optimizer.step()` then `optimizer.zero_grad()`; loss values detached into a list; accuracy counted over samples; `@torch.no_grad()` evaluate
Seen in: randomprassanna/learn-zero-to-gans, mutiprocessing_resnet.py (fit_cycle(): loss.backward(); if grad_clip: nn.utils.clip_grad_value_(model.parameters(), grad_clip); optimizer.step(); optimizer.zero_grad(), with grad_clip = 0.1 as in the zero-to-GANs CIFAR-10 ResNet notebook)
Expect: pass
"""

import torch
from torch import nn

grad_clip = 0.1


def train_one_epoch(model, loader, loss_fn, optimizer):
    # Training Phase
    model.train()
    train_losses = []
    for batch in loader:
        images, labels = batch
        out = model(images)
        loss = loss_fn(out, labels)
        train_losses.append(loss.detach())
        loss.backward()

        # Gradient clipping
        if grad_clip:
            nn.utils.clip_grad_value_(model.parameters(), grad_clip)

        optimizer.step()
        optimizer.zero_grad()
    return torch.stack(train_losses).mean().item()


@torch.no_grad()
def evaluate(model, loader, loss_fn):
    model.eval()
    losses, correct, seen = [], 0, 0
    for images, labels in loader:
        out = model(images)
        losses.append(loss_fn(out, labels))
        _, preds = torch.max(out, dim=1)
        correct += torch.sum(preds == labels).item()
        seen += len(preds)
    return torch.stack(losses).mean().item(), correct / seen
