"""A deep-learning notes repository's ConfusionMatrix: the number of classes counted from the targets
with torch.unique, a float matrix filled by a loop over the (target, predicted) pairs, and precision and
recall divided as they are.

Idiom: `n_classes = len(torch.unique(target))`, `torch.zeros(n_classes, n_classes)` filled by `for x, y in zip(target, predicted): confusion_matrix[x, y] += 1`; `correct = torch.diag(cm)`, `precision = correct / torch.sum(cm, dim=0)`, `recall = correct / torch.sum(cm, dim=1)`, `f1score = 2 * precision * recall / (precision + recall)`, `accuracy = torch.sum(correct) / torch.sum(cm)`
Seen in: sanjucs/ml-tools, notes/dl/modules/metrics/confusion_matrix.py (ConfusionMatrix.compute with torch.unique, calculate_metrics dividing without a guard)
Expect: fails confusion-matrix, empty-classes
"""

import torch


def calculate_metrics(confusion_matrix):
    correct = torch.diag(confusion_matrix)
    col_sum = torch.sum(confusion_matrix, dim=0)
    row_sum = torch.sum(confusion_matrix, dim=1)
    precision = correct / col_sum
    recall = correct / row_sum
    f1score = 2 * precision * recall / (precision + recall)
    accuracy = torch.sum(correct) / torch.sum(confusion_matrix)
    return {"confusion_matrix": confusion_matrix, "precision": precision, "recall": recall,
            "f1score": f1score, "accuracy": accuracy}


def compute(target, predicted):
    n_classes = len(torch.unique(target))
    confusion_matrix = torch.zeros(n_classes, n_classes)
    for x, y in zip(target, predicted):
        confusion_matrix[x, y] += 1
    return calculate_metrics(confusion_matrix)


def predictions(logits):
    return torch.argmax(logits, dim=1)


def accuracy(logits, labels):
    return compute(labels, predictions(logits))["accuracy"].item()


def confusion_matrix(logits, labels, num_classes):
    return compute(labels, predictions(logits))["confusion_matrix"]


def precision_recall(logits, labels, num_classes):
    result = compute(labels, predictions(logits))
    return result["precision"], result["recall"]


def macro_f1(logits, labels, num_classes):
    return compute(labels, predictions(logits))["f1score"].mean().item()
