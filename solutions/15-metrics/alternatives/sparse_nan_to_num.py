"""Alternative: a sparse COO tensor whose repeated indices are summed by to_dense(), plain divisions whose
NaN (0 / 0) is then replaced by 0 with nan_to_num, and the accuracy as the number of hits over N."""

import torch


def predictions(logits):
    return logits.argmax(1)


def accuracy(logits, labels):
    n = logits.shape[0]
    return (torch.eq(predictions(logits), labels).sum() / n).item()


def confusion_matrix(logits, labels, num_classes):
    indices = torch.stack([labels, predictions(logits)])
    ones = torch.ones(labels.numel(), dtype=torch.int64)
    return torch.sparse_coo_tensor(indices, ones, (num_classes, num_classes)).to_dense()


def precision_recall(logits, labels, num_classes):
    cm = confusion_matrix(logits, labels, num_classes).double()
    precision = (cm.diagonal() / cm.sum(0)).nan_to_num(nan=0.0)
    recall = (cm.diagonal() / cm.sum(1)).nan_to_num(nan=0.0)
    return precision, recall


def macro_f1(logits, labels, num_classes):
    precision, recall = precision_recall(logits, labels, num_classes)
    f1 = (2 * precision * recall / (precision + recall)).nan_to_num(nan=0.0)
    return f1.mean().item()
