"""A Jovian "zero to GANs" style fit loop: training_step-like helper, losses collected as tensors and stacked at the end.

Idiom: `loss = training_step(model, batch, loss_fn)`, `train_losses.append(loss)` (the loss tensor itself, still attached to its autograd history), `torch.stack(train_losses).mean().item()`, `step()` then `zero_grad()`; evaluate as a list comprehension of `validation_step` dicts with `loss.detach()`, `@torch.no_grad()`
Seen in: randomprassanna/learn-zero-to-gans, mutiprocessing_resnet.py (Jovian fit_cycle(): loss = model.training_step(batch); train_losses.append(loss); ... result['train_loss'] = torch.stack(train_losses).mean().item()); Photon-AI-Research/InSituML, main/ModelHelpers/ModelOperationHelper.py (Jovian fit()/evaluate(): training_step, backward, step, zero_grad; evaluate() as [model.validation_step(batch) for batch in val_loader]); pytorch/pytorch, docs/source/notes/faq.rst ("Don't accumulate history across your training loop": avoid keeping variables that require gradients beyond the loop, e.g. when tracking statistics; detach them)
Expect: fails epoch-loss
"""

import torch


def training_step(model, batch, loss_fn):
    images, labels = batch
    out = model(images)                  # Generate predictions
    loss = loss_fn(out, labels)          # Calculate loss
    return loss


def validation_step(model, batch, loss_fn):
    images, labels = batch
    out = model(images)                    # Generate predictions
    loss = loss_fn(out, labels)            # Calculate loss
    correct = (out.argmax(dim=1) == labels).sum()
    return {"val_loss": loss.detach(), "correct": correct, "count": len(labels)}


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    train_losses = []
    for batch in loader:
        loss = training_step(model, batch, loss_fn)
        train_losses.append(loss)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return torch.stack(train_losses).mean().item()


@torch.no_grad()
def evaluate(model, loader, loss_fn):
    model.eval()
    outputs = [validation_step(model, batch, loss_fn) for batch in loader]
    epoch_loss = torch.stack([x["val_loss"] for x in outputs]).mean()   # Combine losses
    correct = sum(int(x["correct"]) for x in outputs)
    count = sum(x["count"] for x in outputs)
    return epoch_loss.item(), correct / count
