"""How the fast copy rounds weights: the clipping search loses less than plain min/max, a
weight already on a 4-bit grid stays exact, the kernel's bf16 scales are the ones rounded
against, and the output head's top logits are exact."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from studio.generate import rounding  # noqa: E402
from studio.generate.fast import GROUP, ExactTopHead, Int4Linear, Int8Linear  # noqa: E402


def int4_error(groups, importance=None, **kw) -> float:
    q, scale, zero = rounding.int4_groups(groups, importance, **kw)
    assert q.dtype == torch.int32 and int(q.min()) >= 0 and int(q.max()) <= 15
    # scale and zero are what the kernel will use: bf16 values.
    assert torch.equal(scale, scale.to(torch.bfloat16).float())
    assert torch.equal(zero, zero.to(torch.bfloat16).float())
    deq = (q - 8) * scale[..., None] + zero[..., None]
    w = 1 if importance is None else importance.reshape(1, *groups.shape[1:])
    return float((w * (groups - deq) ** 2).sum())


def outlier_weight(seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    w = torch.randn(64, 8 * GROUP) * 0.02
    w[torch.rand_like(w) < 0.02] *= 8  # a few large weights per row, as real layers have
    return w.reshape(64, 8, GROUP)


def test_the_clipping_search_loses_less_than_plain_min_max_on_weights_with_outliers():
    groups = outlier_weight()
    plain = int4_error(groups, ratios=())
    searched = int4_error(groups)
    assert searched < 0.95 * plain  # ~10% less squared error here
    # Never worse, group by group: plain min/max is always one of the candidates.
    q, s, z = rounding.int4_groups(groups)
    q0, s0, z0 = rounding.int4_groups(groups, ratios=())
    per_group = ((groups - ((q - 8) * s[..., None] + z[..., None])) ** 2).sum(-1)
    per_group0 = ((groups - ((q0 - 8) * s0[..., None] + z0[..., None])) ** 2).sum(-1)
    assert bool((per_group <= per_group0 + 1e-12).all())


def test_a_weight_already_on_a_4bit_grid_is_kept_exactly():
    # As in a model converted from a 4-bit file: 16 levels per group, bf16 scale and zero.
    torch.manual_seed(1)
    scale = (torch.rand(32, 4) * 0.01 + 0.001).to(torch.bfloat16).float()
    zero = (torch.randn(32, 4) * 0.01).to(torch.bfloat16).float()
    levels = torch.randint(0, 16, (32, 4, GROUP)).float()
    levels[..., 0], levels[..., 1] = 0, 15  # the full range is used
    groups = (levels - 8) * scale[..., None] + zero[..., None]
    assert int4_error(groups) < 1e-12 * float((groups**2).sum())


def test_importance_weighting_rounds_the_heavy_input_columns_closer():
    groups = outlier_weight(2)
    importance = torch.ones(8 * GROUP)
    importance[::7] = 50.0  # columns whose inputs are usually large
    weighted = int4_error(groups, importance)
    q, s, z = rounding.int4_groups(groups)
    deq = (q - 8) * s[..., None] + z[..., None]
    plain_weighted = float((importance.reshape(1, 8, GROUP) * (groups - deq) ** 2).sum())
    assert weighted < plain_weighted


def test_int8_rows_round_against_the_bf16_scale_the_kernel_multiplies_by():
    torch.manual_seed(3)
    w = torch.randn(40, 64)
    q, scale = rounding.int8_rows(w)
    assert q.dtype == torch.int8 and torch.equal(scale, scale.to(torch.bfloat16).float())
    new = float(((w - q.float() * scale[:, None]) ** 2).sum())
    # The previous rounding: levels for the fp32 scale, the kernel then using its bf16 value.
    old_scale = w.abs().amax(dim=1) / 127
    old_q = torch.round(w / old_scale[:, None])
    old = float(((w - old_q * old_scale.to(torch.bfloat16).float()[:, None]) ** 2).sum())
    assert new < old


def test_the_exact_top_head_gives_the_fp32_top_logits_and_int8_elsewhere():
    torch.manual_seed(4)
    head = nn.Linear(64, 512, bias=False)
    exact_head, int8_head = ExactTopHead(head, top=8), Int8Linear(head)
    x = torch.randn(2, 3, 64)
    with torch.no_grad():
        want, got, rough = head(x), exact_head(x), int8_head(x)
    assert got.shape == want.shape == (2, 3, 512)
    top = rough.topk(8, dim=-1).indices
    assert torch.allclose(got.gather(-1, top), want.gather(-1, top), atol=1e-5)
    assert not torch.allclose(rough.gather(-1, top), want.gather(-1, top), atol=1e-5)
    assert torch.equal(got.argmax(-1), want.argmax(-1))
    # Beyond the top 8 the values are the int8 head's.
    rest = torch.ones_like(got, dtype=torch.bool).scatter(-1, top, False)
    assert torch.equal(got[rest], rough[rest])
    # A tied head's fp32 weights are shared with the embedding, not copied.
    assert exact_head.exact.data_ptr() == head.weight.data_ptr()


def test_input_importance_measures_every_linear_layer_s_inputs():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Embedding(50, 32), nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 16))
    with torch.no_grad():
        model[0].weight[:, 3] *= 10  # one input column of the first layer is large
    sizes = rounding.input_importance(model, [torch.tensor([1, 2, 3]), torch.tensor([4, 5])])
    assert set(sizes) == {id(model[1]), id(model[3])}
    first = sizes[id(model[1])]
    assert first.shape == (32,) and abs(float(first.mean()) - 1) < 1e-5
    assert int(first.argmax()) == 3
    layer = Int4Linear(model[1], first)  # the layer takes it as its rounding weights
    assert layer(torch.randn(2, 32)).shape == (2, 64)
