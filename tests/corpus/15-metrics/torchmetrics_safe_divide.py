"""torchmetrics' way: stat scores (tp, fp, fn) from a bincount of `target * num_classes + preds`, and a
`_safe_divide` that sets zero denominators to 1 before dividing.

Idiom: `unique_mapping = target.to(torch.long) * num_classes + preds.to(torch.long)`, `bins = torch.bincount(unique_mapping, minlength=num_classes**2)`, `confmat = bins.reshape(num_classes, num_classes)`, `tp = confmat.diag()`, `fp = confmat.sum(0) - tp`, `fn = confmat.sum(1) - tp`; `_safe_divide(num, denom)` doing `denom[denom == 0.0] = 1` and casting to float; F-beta as `(1 + beta**2) * precision * recall / (beta**2 * precision + recall)` with its zero denominators set to 1; `preds.argmax(dim=1)` when preds has one more dimension than target
Seen in: Lightning-AI/torchmetrics, src/torchmetrics/functional/classification/stat_scores.py (_multiclass_stat_scores_update and _multiclass_stat_scores_format); Lightning-AI/torchmetrics, src/torchmetrics/functional/classification/f_beta.py (_fbeta_compute with _safe_divide)
Expect: pass
"""

import torch
from torch import Tensor


def _safe_divide(num: Tensor, denom: Tensor) -> Tensor:
    """Safe division, by preventing division by zero."""
    denom = denom.clone()
    denom[denom == 0.0] = 1
    num = num if num.is_floating_point() else num.float()
    denom = denom if denom.is_floating_point() else denom.float()
    return num / denom


def _stat_scores(logits: Tensor, labels: Tensor, num_classes: int):
    preds = predictions(logits).flatten()
    target = labels.flatten()
    unique_mapping = target.to(torch.long) * num_classes + preds.to(torch.long)
    bins = torch.bincount(unique_mapping, minlength=num_classes**2)
    confmat = bins.reshape(num_classes, num_classes)
    tp = confmat.diag()
    fp = confmat.sum(0) - tp
    fn = confmat.sum(1) - tp
    return confmat, tp, fp, fn


def predictions(logits: Tensor) -> Tensor:
    return logits.argmax(dim=1)


def accuracy(logits: Tensor, labels: Tensor) -> float:
    _, tp, _, _ = _stat_scores(logits, labels, logits.shape[1])
    return _safe_divide(tp.sum(), torch.tensor(labels.numel())).item()


def confusion_matrix(logits: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    return _stat_scores(logits, labels, num_classes)[0]


def precision_recall(logits: Tensor, labels: Tensor, num_classes: int):
    _, tp, fp, fn = _stat_scores(logits, labels, num_classes)
    return _safe_divide(tp, tp + fp), _safe_divide(tp, tp + fn)


def macro_f1(logits: Tensor, labels: Tensor, num_classes: int, beta: float = 1.0) -> float:
    precision, recall = precision_recall(logits, labels, num_classes)
    num = (1 + beta**2) * precision * recall
    denom = beta**2 * precision + recall
    denom[denom == 0.0] = 1  # avoid division by 0
    return (num / denom).mean().item()
