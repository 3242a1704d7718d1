"""One shared run_epoch helper in the transfer-learning tutorial's style, whose accuracy comes back as a tensor.

Idiom: a `phase`-driven helper, `with torch.set_grad_enabled(phase == "train")`, `_, preds = torch.max(outputs, 1)`, `running_corrects += torch.sum(preds == labels.data)`, `epoch_acc = running_corrects.double() / dataset_size` (a 0-dim float64 tensor, printed fine with {:.4f} so nobody notices)
Seen in: pytorch/tutorials, beginner_source/transfer_learning_tutorial.py (train_model(): phases 'train'/'val', torch.set_grad_enabled(phase == 'train'), running_loss += loss.item() * inputs.size(0), epoch_acc = running_corrects.double() / dataset_sizes[phase])
Expect: fails evaluate-results
"""

import torch


def _run_epoch(model, loader, loss_fn, optimizer, phase):
    if phase == "train":
        model.train()  # Set model to training mode
    else:
        model.eval()   # Set model to evaluate mode

    running_loss = 0.0
    running_corrects = 0
    dataset_size = len(loader.dataset)

    for inputs, labels in loader:
        if phase == "train":
            optimizer.zero_grad()

        # forward; track history only in train
        with torch.set_grad_enabled(phase == "train"):
            outputs = model(inputs)
            _, preds = torch.max(outputs, 1)
            loss = loss_fn(outputs, labels)

            # backward + optimize only if in training phase
            if phase == "train":
                loss.backward()
                optimizer.step()

        # statistics
        running_loss += loss.item() * inputs.size(0)
        running_corrects += torch.sum(preds == labels.data)

    epoch_loss = running_loss / dataset_size
    epoch_acc = running_corrects.double() / dataset_size
    return epoch_loss, epoch_acc


def train_one_epoch(model, loader, loss_fn, optimizer):
    epoch_loss, _ = _run_epoch(model, loader, loss_fn, optimizer, "train")
    return epoch_loss


def evaluate(model, loader, loss_fn):
    return _run_epoch(model, loader, loss_fn, None, "val")
