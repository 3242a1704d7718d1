"""A Udacity-course style loop that calls `model.forward(images)` instead of `model(images)`.

Idiom: `output = model.forward(inputs)` everywhere, `running_loss`, accuracy from `ps.max(1)[1]` compared with `labels.data`, counted (not averaged per batch)
Seen in: udacity/deep-learning-v2-pytorch, intro-to-pytorch/fc_model.py (train() and validation() both call model.forward(images); zero_grad before the forward; model.eval() and torch.no_grad() around validation); udacity/deep-learning-v2-pytorch pull request #74 (accuracy counted over samples so a smaller last batch is weighted right)
Expect: pass
"""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    running_loss = 0
    steps = 0
    for images, labels in loader:
        steps += 1
        optimizer.zero_grad()

        output = model.forward(images)
        loss = loss_fn(output, labels)
        loss.backward()
        optimizer.step()

        running_loss += loss.item()
    return running_loss / steps


def evaluate(model, loader, loss_fn):
    model.eval()
    test_loss = 0
    correct = 0
    total = 0
    # Turn off gradients for validation, saves memory and computations
    with torch.no_grad():
        for images, labels in loader:
            output = model.forward(images)
            test_loss += loss_fn(output, labels).item()

            # Class with the highest score is the predicted class
            equality = labels.data == output.max(1)[1]
            correct += equality.sum().item()
            total += labels.size(0)
    return test_loss / len(loader), correct / total
