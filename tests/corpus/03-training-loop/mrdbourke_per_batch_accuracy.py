"""The "going modular" train_step/test_step engine, with accuracy averaged over batches instead of over samples.

Idiom: `y_pred_class = torch.argmax(torch.softmax(y_pred, dim=1), dim=1)`, `test_acc += (test_pred_labels == y).sum().item() / len(test_pred_labels)` then `test_acc / len(dataloader)`, `torch.inference_mode()`, "# 1. Forward pass" numbered comments
Seen in: mrdbourke/pytorch-deep-learning, going_modular/going_modular/engine.py (train_step/test_step: per-batch accuracy summed and divided by len(dataloader)); SyntaxBox/mammals-dl, eval/train_step.py (a copy of it); udacity/deep-learning-v2-pytorch pull request #74 and mlcommons/training issue #89 (the mean of per-batch accuracies is wrong when the last batch is smaller)
Expect: fails evaluate-results
"""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    # Put model in train mode
    model.train()

    # Setup train loss value
    train_loss = 0

    # Loop through data loader data batches
    for batch, (X, y) in enumerate(loader):
        # 1. Forward pass
        y_pred = model(X)

        # 2. Calculate and accumulate loss
        loss = loss_fn(y_pred, y)
        train_loss += loss.item()

        # 3. Optimizer zero grad
        optimizer.zero_grad()

        # 4. Loss backward
        loss.backward()

        # 5. Optimizer step
        optimizer.step()

    # Adjust metrics to get average loss per batch
    train_loss = train_loss / len(loader)
    return train_loss


def evaluate(model, loader, loss_fn):
    # Put model in eval mode
    model.eval()

    # Setup test loss and test accuracy values
    test_loss, test_acc = 0, 0

    # Turn on inference context manager
    with torch.inference_mode():
        for batch, (X, y) in enumerate(loader):
            # 1. Forward pass
            test_pred_logits = model(X)

            # 2. Calculate and accumulate loss
            loss = loss_fn(test_pred_logits, y)
            test_loss += loss.item()

            # Calculate and accumulate accuracy
            test_pred_labels = torch.argmax(torch.softmax(test_pred_logits, dim=1), dim=1)
            test_acc += (test_pred_labels == y).sum().item() / len(test_pred_labels)

    # Adjust metrics to get average loss and accuracy per batch
    test_loss = test_loss / len(loader)
    test_acc = test_acc / len(loader)
    return test_loss, test_acc
