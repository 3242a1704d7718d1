"""Exercise 9: gradients by hand, and a clipped ReLU with its own backward.

Fill in the three TODOs; `grade exercise 9` tells you what the checks observe.
"""

import torch


def grad_by_hand(a, b):
    """The gradients (de_da, de_db) of e = (a + b) * (b + 1), worked out with the chain rule.

    With c = a + b and d = b + 1, e = c * d. No backward() or torch.autograd here: arithmetic only.
    """
    c = a + b
    d = b + 1
    # TODO: the derivative of e with respect to a, and with respect to b (how many paths lead from b to e?)
    raise NotImplementedError("grad_by_hand: work out de_da and de_db")


class ClippedReLU(torch.autograd.Function):
    """min(max(x, 0), limit), with a hand-written backward."""

    @staticmethod
    def forward(ctx, x, limit):
        # TODO: keep what backward needs (tensors with ctx.save_for_backward, numbers on ctx),
        # and return x clamped to [0, limit] as a new tensor.
        raise NotImplementedError("ClippedReLU.forward")

    @staticmethod
    def backward(ctx, grad_output):
        # TODO: return one value per input of forward: the gradient for x, and one for limit.
        raise NotImplementedError("ClippedReLU.backward")


def clipped_relu(x, limit):
    """x clamped to [0, limit], through ClippedReLU so that autograd uses your backward."""
    return ClippedReLU.apply(x, limit)
