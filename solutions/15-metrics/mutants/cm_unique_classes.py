"""Mutant: the number of classes taken from the labels seen, num_classes ignored."""

import torch


def predictions(logits):
    """The predicted class of each sample: the index of its largest logit, shape [N]."""
    return logits.argmax(dim=1)


def accuracy(logits, labels):
    """The fraction of samples whose predicted class is their label, as a Python float."""
    return (predictions(logits) == labels).float().mean().item()


def confusion_matrix(logits, labels, num_classes):
    """[C, C] counts: row i, column j counts the samples of true class i predicted as class j."""
    n_classes = len(torch.unique(labels))
    cm = torch.zeros(n_classes, n_classes)
    for t, p in zip(labels, predictions(logits)):
        cm[t, p] += 1
    return cm


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
    """The mean over the C classes of each class's F1 score (0 where precision + recall is 0), a float."""
    precision, recall = precision_recall(logits, labels, num_classes)
    total = precision + recall
    f1 = torch.where(total > 0, 2 * precision * recall / total.clamp(min=1e-12), torch.zeros_like(total))
    return f1.mean().item()
