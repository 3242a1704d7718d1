"""Exercise 15: classification metrics from logits, in PyTorch.

`logits` is a float tensor [N, C] (one row of class scores per sample), `labels` an int64 tensor [N] of
true classes. predictions and accuracy run, but each has a bug; confusion_matrix, precision_recall and
macro_f1 are yours to write. `grade exercise 15` tells you what the checks observe.
"""

import torch


def predictions(logits):
    """The predicted class of each sample: the index of its largest logit, an int64 tensor [N]."""
    return logits.argmax(dim=0)


def accuracy(logits, labels):
    """The fraction of samples whose predicted class is their label, as a Python float between 0 and 1."""
    return (predictions(logits) == labels).sum()


def confusion_matrix(logits, labels, num_classes):
    """[C, C] counts: entry [i, j] counts the samples whose label is i and whose predicted class is j."""
    # TODO: one row per true class, one column per predicted class, num_classes of each.
    raise NotImplementedError("confusion_matrix: count each (label, predicted class) pair")


def precision_recall(logits, labels, num_classes):
    """Two float tensors [C]: each class's precision (its diagonal count over its column sum) and recall
    (over its row sum); 0 for a class never predicted (precision) or never present (recall)."""
    # TODO: divide the diagonal of the confusion matrix by its column sums and by its row sums.
    raise NotImplementedError("precision_recall: per-class precision and recall from the confusion matrix")


def macro_f1(logits, labels, num_classes):
    """The mean over the C classes of 2 * precision * recall / (precision + recall) (0 where that sum is 0),
    as a Python float."""
    # TODO: one F1 score per class, then their mean.
    raise NotImplementedError("macro_f1: the mean of the per-class F1 scores")
