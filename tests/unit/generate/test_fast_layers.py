"""The fast copy's weight-only layers: close to fp32, int8 where int4 cannot go, and a copy
that leaves the served fp32 model untouched."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from studio.generate.fast import GROUP, Int4Linear, Int8Linear, fast_copy, quantized  # noqa: E402


def relative_error(layer: nn.Module, linear: nn.Linear) -> float:
    x = torch.randn(5, linear.in_features)
    with torch.no_grad():
        want, got = linear(x), layer(x)
    return float((got - want).norm() / want.norm())


@pytest.mark.parametrize("bias", [False, True])
def test_int4_and_int8_layers_answer_like_the_fp32_layer(bias):
    torch.manual_seed(0)
    linear = nn.Linear(4 * GROUP, 48, bias=bias)
    four, eight = Int4Linear(linear), Int8Linear(linear)
    # int4 in groups of 32 (16 levels), int8 per row; bf16 activations cost ~0.4%.
    assert relative_error(four, linear) < 0.12
    assert relative_error(eight, linear) < 0.02
    assert relative_error(eight, linear) < relative_error(four, linear)
    # Batched 3D input (prefill, several streams) keeps its leading shape.
    x = torch.randn(2, 3, linear.in_features)
    assert four(x).shape == eight(x).shape == (2, 3, 48)
    assert four(x).dtype == torch.float32


def test_a_shape_a_kernel_does_not_take_falls_back_to_int8_then_fp32():
    # (These shapes would crash torch's kernels, not raise: they must never reach them.)
    assert isinstance(quantized(nn.Linear(2 * GROUP, 16), 4), Int4Linear)
    assert isinstance(quantized(nn.Linear(GROUP + 16, 16), 4), Int8Linear)  # input width
    assert isinstance(quantized(nn.Linear(2 * GROUP, 24), 4), Int8Linear)  # output width
    assert isinstance(quantized(nn.Linear(2 * GROUP, 16), 8), Int8Linear)
    odd = nn.Linear(GROUP + 8, 16)
    assert quantized(odd, 4) is odd


def test_fast_copy_quantizes_every_linear_keeps_embeddings_and_leaves_the_model_alone(
    tiny_causal_dir,
):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_causal_dir).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = fast_copy(model)

    assert isinstance(fast.get_output_embeddings(), Int8Linear)  # the head: int8, not int4
    body = [m for n, m in fast.named_modules() if "layers" in n]
    assert not [m for m in body if type(m) is nn.Linear]  # no fp32 Linear left in the body
    assert sum(isinstance(m, Int4Linear) for m in body) == 2 * 7  # q k v o gate up down
    # The tied input embedding keeps its fp32 weights; the served model is untouched.
    emb = fast.get_input_embeddings().weight
    assert emb.dtype == torch.float32 and torch.equal(emb, before["model.embed_tokens.weight"])
    assert type(model.get_output_embeddings()) is nn.Linear
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)

    ids = torch.tensor([[1, 5, 9, 13, 17, 21]])
    with torch.no_grad():
        exact, quick = model(ids).logits, fast(ids).logits
    assert quick.shape == exact.shape
    assert float((quick - exact).norm() / exact.norm()) < 0.2
