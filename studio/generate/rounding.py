"""How the fast copy rounds weights to int4 / int8: the grid of each group, chosen to lose
the least.

Plain min/max rounding spends a group's 16 levels on its whole range, so one outlier weight
widens every step of its group. Here each group tries a few narrower ranges (its min and max
shrunk by CLIP_RATIOS, the outliers then clipped), fits the scale and offset of each by least
squares to the levels it gives, and keeps the one with the smallest squared error. The error
can be weighted per input column (`importance`: how large that column's input usually is),
so the columns that carry big activations are rounded most carefully (`fast_copy(...,
calibration=rows of ids)`; the served copy does not pass it: on the packaged SmolLM2 every
group is already on a 4-bit grid, so there it cannot help and was not shown to; the rounding
probe, bench/probe_fast_rounding.py, measures it). All of it is a few
vectorised passes per layer: seconds for a 135M model.
"""

from __future__ import annotations

import torch

# Shrink factors tried for each group's range, each refitted by least squares (plain
# min/max, unrefitted, is always a candidate too).
CLIP_RATIOS = (1.0, 0.85)
REFITS = 1  # least-squares refits of scale and offset per candidate
# A group whose plain rounding loses less than this share of its energy is on a grid already.
ON_GRID = 1e-4


def _weights(groups: torch.Tensor, importance: torch.Tensor | None) -> torch.Tensor:
    if importance is None:
        return torch.ones_like(groups)
    return importance.reshape(1, *groups.shape[1:]).expand_as(groups).to(groups.dtype)


def _refit(groups, a, q, scale, low):
    """The least-squares scale and offset for levels `q` (weighted by `a`): minimises
    sum a (w - (scale * q + low))^2 per group; keeps the old pair where it is degenerate."""
    sa, sq, sqq = a.sum(-1), (a * q).sum(-1), (a * q * q).sum(-1)
    sw, sqw = (a * groups).sum(-1), (a * q * groups).sum(-1)
    det = sa * sqq - sq * sq
    ok = det > 1e-12 * sa * sa
    safe = torch.where(ok, det, torch.ones_like(det))
    new_scale = (sa * sqw - sq * sw) / safe
    new_low = (sqq * sw - sq * sqw) / safe
    ok &= new_scale > 1e-10
    return torch.where(ok, new_scale, scale), torch.where(ok, new_low, low)


def _bf16(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.bfloat16).float()


def _on_kernel_grid(groups, a, scale, low):
    """The pair the int4 kernel will really use -- scale and zero (= low + 8 * scale) in
    bf16 --, the levels chosen against it, the zero refitted to those levels (it absorbs
    the scale's bf16 rounding), and the weighted squared error per group."""
    zero = _bf16(low + 8 * scale)
    scale = _bf16(scale.clamp(min=1e-8))
    q = torch.round((groups - zero[..., None]) / scale[..., None] + 8).clamp(0, 15)
    fitted = _bf16((a * (groups - (q - 8) * scale[..., None])).sum(-1) / a.sum(-1))

    def error(z):
        return (a * (groups - ((q - 8) * scale[..., None] + z[..., None])) ** 2).sum(-1)

    err_zero, err_fitted = error(zero), error(fitted)
    best_zero = torch.where(err_fitted < err_zero, fitted, zero)
    best_err = torch.minimum(err_zero, err_fitted)
    return best_err, q, scale, best_zero


def _keep_better(best: list | None, candidate: tuple) -> list:
    if best is None:
        return list(candidate)
    better = candidate[0] < best[0]
    for i, value in enumerate(candidate):
        mask = better if value.dim() == better.dim() else better[..., None]
        best[i] = torch.where(mask, value, best[i])
    return best


def int4_groups(
    groups: torch.Tensor,
    importance: torch.Tensor | None = None,
    ratios: tuple[float, ...] | None = None,
    refits: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Levels 0..15 (int32, groups' shape), scale and zero (one per group, bf16 values; a
    weight is (level - 8) * scale + zero, as the kernel computes it) for `groups` (rows,
    groups, group size). Candidates: plain min/max, then each range shrunk by `ratios` with
    `refits` least-squares refits; each group keeps its least (importance-weighted) error.
    `ratios=()` is plain min/max rounding (on the kernel's bf16 scale and zero)."""
    ratios = CLIP_RATIOS if ratios is None else ratios
    refits = REFITS if refits is None else refits
    groups = groups.float()
    a = _weights(groups, importance)
    # Plain min/max first: the baseline every other candidate must beat, and exact (but for
    # the bf16 scale) for weights that already sit on such a grid -- a model converted from
    # a 4-bit file, like the packaged SmolLM2 --, whose groups then skip the search.
    err, q, scale, zero = _on_kernel_grid(groups, a, *_min_max(groups))
    todo = err > ON_GRID * (a * groups * groups).sum(-1)
    if ratios and bool(todo.any()):
        sub, sub_a = groups[todo], a[todo]
        best = [err[todo], q[todo], scale[todo], zero[todo]]
        low0, high0 = sub.amin(dim=-1), sub.amax(dim=-1)
        for ratio in ratios:
            low = low0 * ratio
            step = ((high0 * ratio - low) / 15).clamp(min=1e-8)
            levels = torch.round((sub - low[..., None]) / step[..., None]).clamp(0, 15)
            for _ in range(refits):
                step, low = _refit(sub, sub_a, levels, step, low)
                levels = torch.round((sub - low[..., None]) / step[..., None]).clamp(0, 15)
            best = _keep_better(best, _on_kernel_grid(sub, sub_a, step, low))
        q[todo], scale[todo], zero[todo] = best[1], best[2], best[3]
    return q.to(torch.int32), scale, zero


def _min_max(groups: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    low, high = groups.amin(dim=-1), groups.amax(dim=-1)
    return (high - low) / 15, low


def int8_rows(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 levels (-127..127) and one max-abs scale per row of `w`, the levels
    chosen against the bf16 scale the kernel multiplies by. (Clipping a row's range never
    lowered the error of SmolLM2's head with its 127 steps, so rows take no search.)"""
    w = w.float()
    scale = _bf16(w.abs().amax(dim=1).clamp(min=1e-8) / 127)
    q = torch.round(w / scale[:, None]).clamp(-127, 127)
    return q.to(torch.int8), scale


def input_importance(model: torch.nn.Module, ids: list[torch.Tensor]) -> dict[int, torch.Tensor]:
    """How large each input column of every nn.Linear in `model` is on the tokens `ids`
    (rows of token ids; mean square over the tokens, normalised to mean 1), keyed by
    id(layer): the weights
    of the rounding error, so that columns with big activations are rounded closest."""
    sums: dict[int, torch.Tensor] = {}

    def hook(module, args, _out):
        x = args[0].detach().float().reshape(-1, args[0].shape[-1])
        sums[id(module)] = sums.get(id(module), 0) + (x * x).mean(dim=0)

    handles = [m.register_forward_hook(hook) for m in model.modules() if type(m) is torch.nn.Linear]
    try:
        with torch.no_grad():
            for row in ids:
                model(row[None])
    finally:
        for h in handles:
            h.remove()
    return {k: v / v.mean().clamp(min=1e-12) for k, v in sums.items()}
