"""Exercise 9, mutant: grad_by_hand asks autograd (torch.autograd.grad) instead of working the gradients out."""

import torch


def grad_by_hand(a, b):
    """The gradients of e = (a + b) * (b + 1) with respect to a and b, by the chain rule."""
    a = a.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    e = (a + b) * (b + 1)
    de_da, de_db = torch.autograd.grad(e.sum(), (a, b))
    return de_da, de_db


class ClippedReLU(torch.autograd.Function):
    """min(max(x, 0), limit), with its own backward."""

    @staticmethod
    def forward(ctx, x, limit):
        ctx.save_for_backward(x)
        ctx.limit = limit
        return x.clamp(0, limit)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        inside = (x > 0) & (x < ctx.limit)
        return grad_output * inside, None


def clipped_relu(x, limit):
    """ClippedReLU applied to x, clamping it to [0, limit]."""
    return ClippedReLU.apply(x, limit)
