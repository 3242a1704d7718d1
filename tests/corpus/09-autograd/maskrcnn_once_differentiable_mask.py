"""maskrcnn-benchmark's custom-op habit: the linear part's boolean mask computed in forward and kept as a ctx attribute, `@once_differentiable` on backward; the hand gradients summed path by path.

Idiom: `@staticmethod` `@once_differentiable def backward(ctx, grad_output)`, values such as `ctx.input_shape` kept as ctx attributes (a tensor that is neither an input nor an output, so nothing goes stale and no reference cycle forms), one return value per forward argument (None for the number)
Seen in: facebookresearch/maskrcnn-benchmark, maskrcnn_benchmark/layers/roi_align.py (_ROIAlign.forward keeps ctx.output_size, ctx.spatial_scale, ctx.input_shape; backward decorated with @once_differentiable returns one value per forward input)
Expect: pass
"""

import torch
from torch.autograd.function import once_differentiable


def grad_by_hand(a, b):
    c, d = a + b, b + 1
    de_dc, de_dd = d, c  # e = c * d
    dc_da, dc_db, dd_db = 1.0, 1.0, 1.0
    de_da = de_dc * dc_da
    de_db = de_dc * dc_db + de_dd * dd_db
    return de_da, de_db


class ClippedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, limit):
        ctx.linear = (x > 0) & (x < limit)
        return x.clamp(0, limit)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        return grad_output.masked_fill(~ctx.linear, 0), None


def clipped_relu(x, limit):
    return ClippedReLU.apply(x, limit)
