"""A segmentation project's metrics class: TP, FP and FN read off a bincount confusion matrix, with a
small epsilon in every denominator so that an empty class gives 0.

Idiom: `torch.zeros((class_num, class_num), dtype=torch.int64)` updated with `indexes = self.class_num * labels + preds`, `torch.bincount(indexes, minlength=self.class_num ** 2).reshape(...)`; `TP = cm.diag()`, `FP = cm.sum(0) - TP`, `FN = cm.sum(1) - TP`, `TP.float() / (TP + FP + self.eps)` with `eps=1e-7`, results gathered in a dict of metrics
Seen in: tungyen/Deep_learning_CV, Segmentation_2d/metrics.py (ConfusionMatrix.update with bincount, compute_metrics with eps in the denominators)
Expect: pass
"""

import torch


class ConfusionMatrix:
    def __init__(self, class_num, eps=1e-7):
        self.class_num = class_num
        self.eps = eps
        self.confusion_matrix = torch.zeros((class_num, class_num), dtype=torch.int64)

    def update(self, preds, labels):
        preds = preds.view(-1).to(torch.int64)
        labels = labels.view(-1).to(torch.int64)
        indexes = self.class_num * labels + preds
        cm = torch.bincount(indexes, minlength=self.class_num ** 2)
        self.confusion_matrix += cm.reshape(self.class_num, self.class_num)

    def compute_metrics(self):
        TP = self.confusion_matrix.diag()
        FP = self.confusion_matrix.sum(0) - TP
        FN = self.confusion_matrix.sum(1) - TP
        precision = TP.float() / (TP + FP + self.eps)
        recall = TP.float() / (TP + FN + self.eps)
        f1 = 2 * precision * recall / (precision + recall + self.eps)
        return {"precision": precision, "recall": recall, "f1": f1, "mean_f1": f1.mean()}


def _metrics(logits, labels, num_classes):
    meter = ConfusionMatrix(num_classes)
    meter.update(predictions(logits), labels)
    return meter


def predictions(logits):
    return torch.argmax(logits, dim=1)


def accuracy(logits, labels):
    return (predictions(logits) == labels).sum().item() / labels.numel()


def confusion_matrix(logits, labels, num_classes):
    return _metrics(logits, labels, num_classes).confusion_matrix


def precision_recall(logits, labels, num_classes):
    results = _metrics(logits, labels, num_classes).compute_metrics()
    return results["precision"], results["recall"]


def macro_f1(logits, labels, num_classes):
    return _metrics(logits, labels, num_classes).compute_metrics()["mean_f1"].item()
