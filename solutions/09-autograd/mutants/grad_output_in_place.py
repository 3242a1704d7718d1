"""Exercise 9, mutant: zeroes the masked entries of grad_output in place and returns it."""

import torch


def grad_by_hand(a, b):
    """The gradients of e = (a + b) * (b + 1) with respect to a and b, by the chain rule."""
    c = a + b  # de/dc = d
    d = b + 1  # de/dd = c
    de_da = d  # e -> c -> a: d * 1
    de_db = d + c  # two paths from b to e: through c (d * 1) and through d (c * 1)
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
        grad_output[(x <= 0) | (x >= ctx.limit)] = 0
        return grad_output, None


def clipped_relu(x, limit):
    """ClippedReLU applied to x, clamping it to [0, limit]."""
    return ClippedReLU.apply(x, limit)
