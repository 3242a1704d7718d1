"""Exercise 9, another valid style: the output saved with save_for_backward (as in the `Exp` example
of torch.autograd.Function's docstring, whose backward reuses the result) and the mask taken from the
output, which is strictly between 0 and the limit exactly where x is; a float mask multiplied in;
grad_by_hand written with torch.add and torch.mul.

Seen in: huangrt01/CS-Notes Notes/snippets/pytorch-autograd.py (the docstring's Exp: `result = i.exp()`,
`ctx.save_for_backward(result)`, `return grad_output * result`), the output saved for backward.
"""

import torch


def grad_by_hand(a, b):
    c = torch.add(a, b)
    d = torch.add(b, 1)
    return d, torch.add(torch.mul(d, 1), torch.mul(c, 1))


class ClippedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, limit):
        result = torch.clamp(x, 0, limit)
        ctx.save_for_backward(result)
        ctx.limit = float(limit)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        slope = ((result > 0) & (result < ctx.limit)).to(grad_output.dtype)
        return slope * grad_output, None


def clipped_relu(x, limit):
    return ClippedReLU.apply(x, limit)
