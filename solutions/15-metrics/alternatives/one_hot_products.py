"""Alternative: one-hot encodings multiplied together. F.one_hot(labels).T @ F.one_hot(predicted) is the
confusion matrix (rows true, columns predicted); true positives, false positives and false negatives
from it, torch.where for the counts of 0, and F1 as 2 tp / (2 tp + fp + fn), which equals the harmonic
mean of precision and recall."""

import torch
import torch.nn.functional as F


def predictions(logits):
    return torch.argmax(logits, dim=-1)


def accuracy(logits, labels):
    return torch.eq(predictions(logits), labels).float().mean().item()


def confusion_matrix(logits, labels, num_classes):
    truth = F.one_hot(labels, num_classes=num_classes)
    guess = F.one_hot(predictions(logits), num_classes=num_classes)
    return truth.T @ guess


def _counts(logits, labels, num_classes):
    cm = confusion_matrix(logits, labels, num_classes).to(torch.float64)
    tp = torch.diagonal(cm)
    fp = cm.sum(0) - tp
    fn = cm.sum(1) - tp
    return tp, fp, fn


def precision_recall(logits, labels, num_classes):
    tp, fp, fn = _counts(logits, labels, num_classes)
    precision = torch.where(tp + fp > 0, tp / (tp + fp), torch.zeros_like(tp))
    recall = torch.where(tp + fn > 0, tp / (tp + fn), torch.zeros_like(tp))
    return precision, recall


def macro_f1(logits, labels, num_classes):
    tp, fp, fn = _counts(logits, labels, num_classes)
    denominator = 2 * tp + fp + fn
    f1 = torch.where(denominator > 0, 2 * tp / denominator, torch.zeros_like(tp))
    return float(f1.mean())
