"""Step-level batching: same tokens as model.generate, and concurrent requests share passes."""

from __future__ import annotations

import threading

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny(tiny_causal_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_causal_dir).eval()
    return model, AutoTokenizer.from_pretrained(tiny_causal_dir)


PROMPTS = ["The bees", "A long time ago in a land far away there lived", "Profit rose by"]


def plain_greedy(model, ids: list[int], n: int) -> list[int]:
    x = torch.tensor([ids])
    out = model.generate(
        input_ids=x,
        attention_mask=torch.ones_like(x),
        max_new_tokens=n,
        min_new_tokens=n,
        do_sample=False,
        pad_token_id=0,
        temperature=None,
        top_p=None,
        top_k=None,
    )
    return out[0, len(ids) :].tolist()


def test_one_request_matches_plain_generate(tiny):
    from studio.generate.batcher import BatchScheduler

    model, tok = tiny
    scheduler = BatchScheduler(model)
    for text in PROMPTS:
        ids = tok(text)["input_ids"]
        assert list(scheduler.submit(ids, 12)) == plain_greedy(model, ids, 12)


def test_concurrent_requests_share_forward_passes_and_keep_their_tokens(tiny):
    from studio.generate.batcher import BatchScheduler

    model, tok = tiny
    scheduler = BatchScheduler(model)
    prompts = [tok(t)["input_ids"] for t in PROMPTS]
    results: dict[int, list[int]] = {}

    def run(i):
        results[i] = list(scheduler.submit(prompts[i], 16 + 4 * i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert max(scheduler.batch_sizes) >= 2  # two requests were seen in one forward pass
    for i, ids in enumerate(prompts):
        # Left padding changes float rounding a little; greedy tokens must still agree.
        assert results[i] == plain_greedy(model, ids, 16 + 4 * i)


def test_eos_and_cancel_end_a_request(tiny):
    from studio.generate.batcher import BatchScheduler

    model, tok = tiny
    ids = tok(PROMPTS[0])["input_ids"]
    expected = plain_greedy(model, ids, 8)
    scheduler = BatchScheduler(model)
    stop_at = expected.index(expected[2]) + 1
    assert list(scheduler.submit(ids, 8, eos_ids={expected[2]})) == expected[:stop_at]
    request = scheduler.submit(ids, 400)
    got = []
    for token in request:
        got.append(token)
        if len(got) == 3:
            request.cancel()
    assert 3 <= len(got) < 400


def test_a_failing_forward_reaches_every_waiting_request(tiny):
    from studio.generate.batcher import BatchScheduler

    model, _ = tiny

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    scheduler = BatchScheduler(broken)
    broken.device = model.device
    with pytest.raises(RuntimeError, match="boom"):
        list(scheduler.submit([1, 2, 3], 4))
