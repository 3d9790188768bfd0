"""Compare really runs the base on one side; the cache shares base weights and evicts."""

from __future__ import annotations

import threading

from studio.generate.cache import ModelCache
from studio.generate.options import GenerationOptions
from studio.generate.prompting import PromptInput

PROMPT = PromptInput(instruction="Say something about foxes.", input="The fox is quick.")
OPTS = dict(max_new_tokens=10, min_new_tokens=10)


def plain_greedy(tiny_causal_dir, text: str, n: int) -> str:
    """The base model's greedy output, loaded fresh with plain transformers."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_causal_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_causal_dir).eval()
    ids = tok(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                             pad_token_id=tok.pad_token_id)  # fmt: skip
    return tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


def test_compare_base_side_is_really_the_base(engine, tuned_job, tiny_causal_dir):
    job = f"job:{tuned_job[1]}"
    updates = list(engine.compare_stream(job, None, PROMPT, GenerationOptions(**OPTS)))
    left, right = updates[-1]
    assert left.status == right.status == "done"
    assert "job" in left.model and "base" in right.model
    assert left.text != right.text  # the perturbed adapter changes the answer
    # The base side equals a plain base model's greedy output on the same rendered prompt.
    assert right.prompt == left.prompt.strip() or right.prompt == left.prompt
    assert right.text == plain_greedy(tiny_causal_dir, right.prompt, 10)
    # Tuned alone gives the same text as the tuned side of the comparison.
    alone = engine.generate(job, PROMPT, GenerationOptions(**OPTS))
    assert alone.text == left.text
    # Both sides shared one base model in the cache (adapter loaded into it by name).
    assert len(engine.cache.keys()) == 1
    # Streamed together: both sides moved before either finished.
    firsts = [i for i, (l_, r_) in enumerate(updates) if l_.status == "generating"]
    seconds = [i for i, (l_, r_) in enumerate(updates) if r_.status == "generating"]
    assert firsts and seconds and min(seconds) < max(firsts) + 1


def test_concurrent_tuned_and_base_stay_separate(engine, tuned_job, tiny_causal_dir):
    job, base = f"job:{tuned_job[1]}", f"base:{tiny_causal_dir}"
    want_t = engine.generate(job, PROMPT, GenerationOptions(**OPTS)).text
    want_b = engine.generate(base, PROMPT, GenerationOptions(**OPTS)).text
    assert want_t != want_b
    got: dict[str, list[str]] = {"t": [], "b": []}

    def run(key, ref):
        for _ in range(3):
            got[key].append(engine.generate(ref, PROMPT, GenerationOptions(**OPTS)).text)

    threads = [threading.Thread(target=run, args=a) for a in (("t", job), ("b", base))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {"t": [want_t] * 3, "b": [want_b] * 3}


def test_lru_evicts_and_loads_once():
    cache = ModelCache(size=2)
    built = []

    def loader(name):
        class Fake:
            def register_forward_pre_hook(self, hook):
                return None

            def register_forward_hook(self, hook, always_call=False):
                return None

        def load():
            built.append(name)
            return Fake()

        return load

    cache.get("a", loader("a"))
    cache.get("b", loader("b"))
    cache.get("a", loader("a"))  # hit: a becomes most recent
    cache.get("c", loader("c"))  # evicts b (least recently used)
    assert cache.keys() == ["a", "c"]
    assert built == ["a", "b", "c"]
    assert cache.is_loaded("a") and not cache.is_loaded("b")
    cache.get("b", loader("b"))
    assert built == ["a", "b", "c", "b"] and cache.keys() == ["c", "b"]


def test_engine_cache_bounded_by_settings(store, settings, tiny_causal_dir, tmp_path):
    import shutil

    from studio.generate.engine import Engine

    engine = Engine(settings, store)  # model_cache_size defaults to 2
    copies = []
    for i in range(3):
        dst = tmp_path / f"copy{i}"
        shutil.copytree(tiny_causal_dir, dst)
        copies.append(dst)
        engine.generate(f"base:{dst}", PROMPT, GenerationOptions(max_new_tokens=1))
    assert len(engine.cache.keys()) == settings.model_cache_size == 2
    assert engine.cache.loads == 3
