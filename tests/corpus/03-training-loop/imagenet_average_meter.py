"""An ImageNet-example / timm style loop built on an AverageMeter that weights each batch by its size.

Idiom: `class AverageMeter` with `update(val, n)` and `.avg`, `losses.update(loss.item(), images.size(0))`, `top1`-style meter for accuracy, `@torch.no_grad()` on evaluate, `model.train(True)` / `model.eval()`
Seen in: pytorch/examples, imagenet/main.py (AverageMeter whose update(val, n) weights each batch by its size, validate() under torch.no_grad()); huggingface/pytorch-image-models, timm/utils/metrics.py (the same AverageMeter, used by timm's train_one_epoch and validate)
Expect: pass
"""

import torch


class AverageMeter:
    """Computes and stores the average and current value."""

    def __init__(self, name):
        self.name = name
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def train_one_epoch(model, loader, loss_fn, optimizer):
    losses = AverageMeter("Loss")
    model.train(True)
    for images, target in loader:
        output = model(images)
        loss = loss_fn(output, target)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        losses.update(loss.item(), images.size(0))
    return losses.avg


@torch.no_grad()
def evaluate(model, loader, loss_fn):
    losses = AverageMeter("Loss")
    top1 = AverageMeter("Acc@1")
    model.eval()
    for images, target in loader:
        output = model(images)
        loss = loss_fn(output, target)
        correct = output.argmax(dim=1).eq(target).float().mean().item()
        losses.update(loss.item(), images.size(0))
        top1.update(correct, images.size(0))
    return losses.avg, top1.avg
