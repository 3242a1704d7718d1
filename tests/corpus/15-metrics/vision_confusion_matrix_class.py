"""torchvision's reference scripts: a ConfusionMatrix class that accumulates bincount counts, and the
ImageNet example's top-k accuracy, here as a fraction.

Idiom: a `ConfusionMatrix(num_classes)` object with `update(a, b)` adding `torch.bincount(n * a + b, minlength=n ** 2).reshape(n, n)` to an int64 matrix made on first use, and `compute()` reading `torch.diag(h)`, `h.sum(1)` and `h.sum(0)` of `h = self.mat.float()`; accuracy as `accuracy(output, target, topk=(1,))`: `output.topk(maxk, 1, True, True)`, `pred.t()`, `pred.eq(target.view(1, -1).expand_as(pred))`, `correct[:k].reshape(-1).float().sum(0)`, here divided by the batch size instead of multiplied by `100.0 / batch_size`
Seen in: pytorch/vision, references/segmentation/utils.py (ConfusionMatrix.update with bincount and minlength, compute with torch.diag); pytorch/examples, imagenet/main.py (accuracy(output, target, topk) with topk, t() and eq)
Expect: pass
"""

import torch


class ConfusionMatrix(object):
    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.mat = None

    def update(self, a, b):
        n = self.num_classes
        if self.mat is None:
            self.mat = torch.zeros((n, n), dtype=torch.int64, device=a.device)
        with torch.no_grad():
            k = (a >= 0) & (a < n)
            inds = n * a[k].to(torch.int64) + b[k]
            self.mat += torch.bincount(inds, minlength=n ** 2).reshape(n, n)

    def compute(self):
        h = self.mat.float()
        correct = torch.diag(h)
        # the reference divides by h.sum(0) and h.sum(1) as they are; a class with no count gets 0 here
        precision = torch.where(h.sum(0) > 0, correct / h.sum(0), torch.zeros_like(correct))
        recall = torch.where(h.sum(1) > 0, correct / h.sum(1), torch.zeros_like(correct))
        return precision, recall


def topk_accuracy(output, target, topk=(1,)):
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k / batch_size)
        return res


def predictions(logits):
    _, pred = logits.topk(1, 1, True, True)
    return pred.t()[0]


def accuracy(logits, labels):
    (acc1,) = topk_accuracy(logits, labels, topk=(1,))
    return acc1.item()


def confusion_matrix(logits, labels, num_classes):
    confmat = ConfusionMatrix(num_classes)
    confmat.update(labels.flatten(), predictions(logits).flatten())
    return confmat.mat


def precision_recall(logits, labels, num_classes):
    confmat = ConfusionMatrix(num_classes)
    confmat.update(labels.flatten(), predictions(logits).flatten())
    return confmat.compute()


def macro_f1(logits, labels, num_classes):
    precision, recall = precision_recall(logits, labels, num_classes)
    denominator = precision + recall
    f1 = torch.where(denominator > 0, 2 * precision * recall / denominator, torch.zeros_like(denominator))
    return f1.mean().item()
