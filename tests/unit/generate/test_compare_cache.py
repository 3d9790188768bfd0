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
        out = model.generate(
            ids, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=tok.pad_token_id
        )
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


def _job_copy(store, tuned_run_dir, dest, **meta_updates) -> str:
    """The ref of a copy of the tuned run (its own adapter name), studio.json updated."""
    import json
    import shutil

    from tests.unit.generate.tuned import add_succeeded_job

    shutil.copytree(tuned_run_dir, dest)
    meta_path = dest / "adapter" / "studio.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), **meta_updates}))
    return "job:" + add_succeeded_job(store, dest, app_name=dest.name)[1]


def test_compare_sends_the_tuned_models_prompt_to_both_sides(
    engine, store, tuned_run_dir, tiny_causal_dir, tmp_path
):
    job = _job_copy(
        store,
        tuned_run_dir,
        tmp_path / "alpaca",
        style="input_response",
        preamble="Answer the question.",
        input_preamble="Use the input.",
    )
    want = (
        "Use the input. ### Instruction: Say something about foxes. "
        "### Input: The fox is quick. ### Response:"
    )
    left, right = list(engine.compare_stream(job, None, PROMPT, GenerationOptions(**OPTS)))[-1]
    assert left.prompt == right.prompt == want  # the base no longer gets its default layout
    assert right.text == plain_greedy(tiny_causal_dir, want, 10)
    # A second model chosen by hand also gets the left model's prompt.
    _, other = list(
        engine.compare_stream(job, f"base:{tiny_causal_dir}", PROMPT, GenerationOptions(**OPTS))
    )[-1]
    assert other.prompt == want


def test_adapters_per_base_are_bounded_lru(store, settings, tuned_run_dir, tmp_path):
    from studio.generate.engine import Engine

    engine = Engine(settings, store, ModelCache(size=2, max_adapters=2))
    jobs = [_job_copy(store, tuned_run_dir, tmp_path / f"run{i}") for i in range(3)]
    first = engine.generate(jobs[0], PROMPT, GenerationOptions(**OPTS)).text
    engine.generate(jobs[1], PROMPT, GenerationOptions(**OPTS))
    [key] = engine.cache.keys()
    entry = engine.cache._entries[key]
    names = [engine._adapter_name(engine.spec(j)) for j in jobs]
    assert list(entry.adapters) == names[:2]
    engine.generate(jobs[2], PROMPT, GenerationOptions(**OPTS))
    assert list(entry.adapters) == names[1:]  # the least recently used one went
    assert set(entry.peft.peft_config) == set(names[1:])  # really deleted from the model
    assert not engine.is_loaded(engine.spec(jobs[0]))
    # Unloaded and loaded again on demand: same answer as before.
    assert engine.generate(jobs[0], PROMPT, GenerationOptions(**OPTS)).text == first
    assert list(entry.adapters) == [names[2], names[0]]
    # An adapter a generation is using stays, even when least recently used.
    with entry.use(names[2]):
        engine.generate(jobs[1], PROMPT, GenerationOptions(**OPTS))
        assert list(entry.adapters) == [names[2], names[1]]
    engine.generate(jobs[0], PROMPT, GenerationOptions(**OPTS))
    assert list(entry.adapters) == [names[1], names[0]]


def test_assisted_draft_does_not_evict_its_target(store, settings, tuned_job):
    from studio.generate.engine import Engine

    engine = Engine(settings, store, ModelCache(size=1))
    job = f"job:{tuned_job[1]}"
    opts = GenerationOptions(strategy="assisted", assistant="base", max_new_tokens=6)
    engine.generate(job, PROMPT, opts)
    engine.generate(job, PROMPT, opts)
    assert len(engine.cache.keys()) == 1 and engine.cache.loads == 2  # model + draft, once


def test_tokenizers_are_bounded(engine, tiny_causal_dir, tmp_path):
    import shutil

    from studio.generate.tokens import TokenizerCache

    engine._tokenizers = TokenizerCache(size=2)
    for i in range(3):
        shutil.copytree(tiny_causal_dir, tmp_path / f"tok{i}")
        engine.render(f"base:{tmp_path / f'tok{i}'}", PromptInput(mode="text", text="x"))
    assert len(engine._tokenizers) == 2
