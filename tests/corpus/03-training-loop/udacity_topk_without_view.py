"""A Udacity-notebook validation pass that compares `top_class` (shape [N, 1]) with `labels` (shape [N]) without reshaping.

Idiom: `ps = torch.exp(log_ps)` (here a softmax, the model gives logits), `top_p, top_class = ps.topk(1, dim=1)`, `equals = top_class == labels` (broadcasts to [N, N]), `accuracy += torch.mean(equals.type(torch.FloatTensor)).item() * images.size(0)` over `len(loader.dataset)`
Seen in: udacity/deep-learning-v2-pytorch, intro-to-pytorch/Part 5 - Inference and Validation (Solution).ipynb (warns that `equals = top_class == labels` has shape (64, 64) and uses labels.view(*top_class.shape)); udacity/deep-learning-v2-pytorch, pull request #74 (weight each batch's accuracy by its size)
Expect: fails evaluate-results
"""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    running_loss = 0
    for images, labels in loader:
        optimizer.zero_grad()
        log_ps = model(images)
        loss = loss_fn(log_ps, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    return running_loss / len(loader)


def evaluate(model, loader, loss_fn):
    test_loss = 0
    accuracy = 0
    model.eval()
    # Turn off gradients for validation, saves memory and computations
    with torch.no_grad():
        for images, labels in loader:
            log_ps = model(images)
            test_loss += loss_fn(log_ps, labels).item()

            ps = torch.softmax(log_ps, dim=1)
            top_p, top_class = ps.topk(1, dim=1)
            equals = top_class == labels
            # weighted by the batch size, so a smaller last batch counts right (udacity PR #74)
            accuracy += torch.mean(equals.type(torch.FloatTensor)).item() * images.size(0)
    return test_loss / len(loader), accuracy / len(loader.dataset)
