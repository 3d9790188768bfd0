"""The fast copy's weight-only layers: int4 (groups of GROUP input columns, a scale and an
offset each) and int8 (one scale per output row), multiplied with bf16 activations by torch's
CPU kernels, and the output head that recomputes its top logits exactly.

The kernels take their scales in bf16, so the levels are chosen against the bf16 values the
kernel will actually use (studio/generate/rounding.py), not against fp32 ones it never sees.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.generate.rounding import int4_groups, int8_rows

GROUP = 32  # int4 group size along the input; smaller = closer to fp32, more scales to read


class _WeightOnly(nn.Module):
    """A Linear layer whose weights are stored quantized; activations go to the kernel in
    bf16 and come back in the caller's dtype. Subclasses store the weights and `_matmul`."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach().clone())
        self.out_features = linear.out_features

    def _matmul(self, flat: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._matmul(x.reshape(-1, x.shape[-1]).to(torch.bfloat16))
        y = y.reshape(*x.shape[:-1], self.out_features).to(x.dtype)
        return y if self.bias is None else y + self.bias


class Int8Linear(_WeightOnly):
    """int8 weights, one scale per output row (`importance` is not used: with one max-abs
    scale per row there is no choice for it to weigh; the argument keeps the layer kinds
    interchangeable)."""

    def __init__(self, linear: nn.Linear, importance: torch.Tensor | None = None):
        super().__init__(linear)
        q, scale = int8_rows(linear.weight.detach())
        self.register_buffer("qweight", q)
        self.register_buffer("scale", scale.to(torch.bfloat16))

    def _matmul(self, flat: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._weight_int8pack_mm(flat, self.qweight, self.scale)


class Int4Linear(_WeightOnly):
    """int4 weights in groups of GROUP input columns (a scale and an offset per group)."""

    def __init__(self, linear: nn.Linear, importance: torch.Tensor | None = None):
        super().__init__(linear)
        w = linear.weight.detach().float()
        n, k = w.shape
        q, scale, zero = int4_groups(w.reshape(n, k // GROUP, GROUP), importance)
        packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q.reshape(n, k), 1)
        zeros = torch.stack([scale, zero], dim=-1).transpose(0, 1).contiguous()
        self.register_buffer("packed", packed)
        self.register_buffer("scale_zero", zeros.to(torch.bfloat16))

    def _matmul(self, flat: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._weight_int4pack_mm_for_cpu(flat, self.packed, GROUP, self.scale_zero)


class ExactTopHead(Int8Linear):
    """The int8 output head, with each position's `top` highest logits recomputed in fp32
    from the full-precision weights.

    The next token (greedy, or a classifier's one-word answer) is decided among the few
    highest logits, and the int8 head's per-row rounding and bf16 output (steps of 0.125
    at a logit of 20) can swap two close ones. Recomputing the top few exactly costs `top`
    dot products per position; for a tied head the fp32 weights are the input embedding's,
    already in memory."""

    def __init__(self, linear: nn.Linear, importance: torch.Tensor | None = None, top: int = 32):
        super().__init__(linear, importance)
        self.exact = linear.weight  # shared with a tied input embedding, not copied
        self.top = min(top, linear.out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        flat_x = x.reshape(-1, x.shape[-1]).float()
        flat_y = y.reshape(-1, self.out_features)
        idx = flat_y.topk(self.top, dim=-1).indices
        exact = torch.einsum("mk,mtk->mt", flat_x, self.exact[idx].float())
        if self.bias is not None:
            exact = exact + self.bias[idx]
        return flat_y.scatter(1, idx, exact.to(flat_y.dtype)).reshape(y.shape)


def _works(layer: nn.Module, linear: nn.Linear) -> bool:
    """Whether `layer` runs on a small input and gives finite values of `linear`'s shape
    (a kernel may still raise on a case `fits` does not foresee)."""
    x = torch.randn(2, linear.in_features)
    try:
        got, want = layer(x), linear(x)
    except RuntimeError:
        return False
    return bool(torch.isfinite(got).all()) and got.shape == want.shape


def fits(kind: type, linear: nn.Linear) -> bool:
    """Whether torch's CPU kernel for `kind` takes this layer's shape. Checked before any
    call: on a shape it does not take, the kernel can crash the process instead of raising."""
    if kind is Int4Linear:
        return linear.in_features % GROUP == 0 and linear.out_features % 16 == 0
    return linear.in_features % 16 == 0


def _first_working(kinds: tuple, linear: nn.Linear, importance) -> nn.Module:
    for kind in kinds:
        if not fits(kind, linear):
            continue
        try:
            layer = kind(linear, importance)
        except RuntimeError:
            continue
        if _works(layer, linear):
            return layer
    return linear


def quantized(linear: nn.Linear, bits: int, importance: torch.Tensor | None = None) -> nn.Module:
    """The smallest working weight-only copy of `linear`: int4 (bits=4), else int8, else
    the fp32 layer itself (`importance`: how large each input column usually is)."""
    return _first_working(
        (Int4Linear, Int8Linear) if bits == 4 else (Int8Linear,), linear, importance
    )


def output_head(linear: nn.Linear, importance: torch.Tensor | None = None) -> nn.Module:
    """The fast copy's output head: int8 with its top logits recomputed exactly
    (ExactTopHead), else the fp32 layer itself."""
    return _first_working((ExactTopHead,), linear, importance)
