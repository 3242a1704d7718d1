"""Exercise 9, another valid style: the separate `forward(x, limit)` / `setup_context(ctx, inputs, output)`
form of autograd.Function (PyTorch 2), `torch.where` in backward, `ctx.needs_input_grad`, a Function
with a `clamp_max` attribute name; grad_by_hand as a staged backward pass (upstream gradient 1.0 at e,
local gradients multiplied on the way down, contributions added where b forks).

Seen in: https://docs.pytorch.org/docs/stable/generated/torch.autograd.Function.forward.html ("Usage 2
(Separate forward and ctx)") and pytorch/pytorch test/test_autograd.py (PowFunction with setup_context,
`ctx.save_for_backward(x)`, `ctx.y = y`); the staged backward pass as in KawsarAhmad43/Learnify's
"Computational Graph Implementation (Manual)" (d_f = 1.0, then d_x_from_a + d_x_from_b).
"""

import torch
from torch.autograd import Function


def grad_by_hand(a, b):
    # forward pass, keeping the intermediate values
    c = a + b
    d = b + 1
    # backward pass, from e down
    grad_e = torch.ones_like(c)
    grad_c = grad_e * d  # e = c * d
    grad_d = grad_e * c
    grad_a = grad_c * 1  # c = a + b
    grad_b = grad_c * 1
    grad_b = grad_b + grad_d * 1  # d = b + 1: the second path into b
    return grad_a, grad_b


class ClippedReLU(Function):
    @staticmethod
    def forward(x, clamp_max):
        return torch.clamp(x, min=0.0, max=clamp_max)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, clamp_max = inputs
        ctx.save_for_backward(x)
        ctx.clamp_max = clamp_max

    @staticmethod
    def backward(ctx, grad_output):
        grad_x = None
        if ctx.needs_input_grad[0]:
            (x,) = ctx.saved_tensors
            passes = (x > 0) & (x < ctx.clamp_max)
            grad_x = torch.where(passes, grad_output, torch.zeros_like(grad_output))
        return grad_x, None


def clipped_relu(x, limit):
    return ClippedReLU.apply(x, limit)
