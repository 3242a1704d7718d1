"""Mutant: micro F1 from the counts of all classes pooled, which is the accuracy."""

import torch


def predictions(logits):
    """The predicted class of each sample: the index of its largest logit, shape [N]."""
    return logits.argmax(dim=1)


def accuracy(logits, labels):
    """The fraction of samples whose predicted class is their label, as a Python float."""
    return (predictions(logits) == labels).float().mean().item()


def confusion_matrix(logits, labels, num_classes):
    """[C, C] counts: row i, column j counts the samples of true class i predicted as class j."""
    pairs = labels * num_classes + predictions(logits)
    counts = torch.bincount(pairs, minlength=num_classes * num_classes)
    return counts.view(num_classes, num_classes)


def precision_recall(logits, labels, num_classes):
    """Per-class precision and recall, two float tensors of shape [C]; 0 where a class was never
    predicted (precision) or never occurs (recall)."""
    cm = confusion_matrix(logits, labels, num_classes).float()
    correct = cm.diag()
    predicted = cm.sum(dim=0)  # column j: every sample predicted as j
    actual = cm.sum(dim=1)  # row i: every sample whose label is i
    precision = correct / predicted.clamp(min=1)  # 0 / 1 where nothing was predicted as the class
    recall = correct / actual.clamp(min=1)
    return precision, recall


def macro_f1(logits, labels, num_classes):
    """F1 from the true positives, false positives and false negatives of all classes together, a float."""
    cm = confusion_matrix(logits, labels, num_classes).float()
    tp = cm.diag().sum()
    fp = cm.sum() - tp
    fn = cm.sum() - tp
    return (2 * tp / (2 * tp + fp + fn)).item()
