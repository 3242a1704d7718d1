"""A Kaggle-competition style step: non_blocking copies, set_to_none, and predictions detached and brought back.

Idiom: `DEVICE = "cuda" if torch.cuda.is_available() else "cpu"` returned as a string, `images = images.to(device, non_blocking=True)`, `labels.to(device, non_blocking=True)`, `optimizer.zero_grad(set_to_none=True)`, `torch.inference_mode()`, `preds.detach().cpu()` (without the usual `.numpy()`)
Seen in: karpathy/nanoGPT, train.py (get_batch(): x.pin_memory().to(device, non_blocking=True) on cuda; optimizer.zero_grad(set_to_none=True)); mrdbourke/pytorch-deep-learning, going_modular/going_modular/engine.py (device = "cuda" if torch.cuda.is_available() else "cpu" strings, X, y = X.to(device), y.to(device), torch.inference_mode())
Expect: pass
"""

import torch


def get_device():
    DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(DEVICE)


def setup(model, device):
    model = model.to(device)
    return model


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    model.train()
    images = inputs.to(device, non_blocking=True)
    labels = targets.to(device, non_blocking=True)

    optimizer.zero_grad(set_to_none=True)
    logits = model(images)
    loss = loss_fn(logits, labels)
    loss.backward()
    optimizer.step()
    return loss.detach().item()


def predict(model, inputs, device):
    model.eval()
    with torch.inference_mode():
        logits = model(inputs.to(device, non_blocking=True))
        preds = torch.argmax(logits, dim=1)
    return preds.detach().cpu()
