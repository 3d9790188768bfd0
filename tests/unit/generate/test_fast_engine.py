"""The fast engine (ONNX Runtime GenAI on a converted copy): quality within bounds of the
exact model, a tuned adapter's answers, the exact fallback and its note, two requests at
once, and the converted copy dropped when the model changes. Tiny models throughout; each
copy is converted once per content into the shared test cache (models_cache/fast)."""

from __future__ import annotations

import math
import shutil
import threading
import time
from pathlib import Path

import pytest

from studio.generate.fast_build import FastBuilds
from studio.generate.fast_runtime import FastModel, FastTurn
from studio.generate.options import GenerationOptions
from studio.generate.prompting import PromptInput
from tests.unit.generate.marker import MARKER, MARKER_PROMPTS, train_marker_run
from tests.unit.generate.tuned import add_succeeded_job

pytest.importorskip("onnxruntime_genai")
torch = pytest.importorskip("torch")


def fast_answer(engine, ref: str, prompt: PromptInput, opts: GenerationOptions, wait: float = 600):
    """The first answer the fast engine gives (exact answers while its copy converts)."""
    deadline = time.monotonic() + wait
    while True:
        out = engine.generate(ref, prompt, opts)
        if out.engine.startswith("fast") or time.monotonic() > deadline:
            assert out.engine.startswith("fast"), out.note
            return out
        assert "converting" in out.note, out.note  # exact meanwhile, and says why
        time.sleep(0.5)


@pytest.fixture(scope="session")
def marker_run(tiny_causal_dir, tmp_path_factory):
    return train_marker_run(tmp_path_factory.mktemp("marker-run"), tiny_causal_dir)


@pytest.fixture
def marker_ref(store, marker_run):
    return f"job:{add_succeeded_job(store, marker_run)[1]}"


FAST = GenerationOptions(max_new_tokens=4, precision="fast")


def test_tuned_adapter_served_fast_gives_the_tuned_answers(engine, marker_ref, tiny_causal_dir):
    for text in MARKER_PROMPTS:
        prompt = PromptInput(mode="text", text=text)
        exact = engine.generate(marker_ref, prompt, GenerationOptions(max_new_tokens=4))
        fast = fast_answer(engine, marker_ref, prompt, FAST)
        assert exact.text.startswith(MARKER) and fast.text.startswith(MARKER), fast.text
    base = fast_answer(
        engine, f"base:{tiny_causal_dir}", PromptInput(mode="text", text=MARKER_PROMPTS[0]), FAST
    )
    assert MARKER.strip() not in base.text  # the base, converted on its own, does not know it


def _perplexity(engine, ref: str, texts: list[str], precision: str) -> float:
    """Perplexity of each text's answer (the MARKER after its prompt), from the exact model's
    logits or the fast engine's own, fed the text one token at a time."""
    import onnxruntime_genai as og

    spec = engine.spec(ref)
    tok = engine.tokenizer(spec)
    nll, count = 0.0, 0
    if precision == "fast":
        p = engine.prepare(spec, PromptInput(mode="text", text=texts[0]), FAST)
        fast, _ = engine.serving.fast_model(p, FAST)
        model = fast.model
    for text in texts:
        ids = tok(text)["input_ids"]
        if precision == "exact":
            p = engine.prepare(spec, PromptInput(mode="text", text=text), GenerationOptions())
            with torch.inference_mode(), engine.cache.use(p.entry, p.adapter, spec.adapter_dir):
                logits = p.entry.model(torch.tensor([ids])).logits[0].double()
            rows = [logits[i] for i in range(len(ids) - 1)]
        else:
            params = og.GeneratorParams(model)
            params.set_search_options(max_length=len(ids) + 1)
            generator = og.Generator(model, params)
            rows = []
            for i in range(len(ids) - 1):
                generator.append_tokens([ids[i]])
                logits = generator.get_logits()
                rows.append(torch.tensor(logits.reshape(-1, logits.shape[-1])[-1]).double())
        answer_from = len(tok(text[: -len(MARKER)])["input_ids"])
        for i, row in enumerate(rows):
            if i + 1 >= answer_from:
                nll -= float(torch.log_softmax(row, -1)[ids[i + 1]])
                count += 1
    return math.exp(nll / count)


@pytest.mark.slow
def test_an_answer_the_model_ends_reads_as_stopped_on_both_engines(engine, packaged_model_dir):
    """SmolLM2 answers a short chat turn and ends it with its end-of-sequence token: "stop"
    and the same token count on the fast engine as on the exact one (the Engine does not
    send that token itself; a client reads "length" as a cut-off answer)."""
    ref = f"base:{packaged_model_dir}"
    chat = "<|im_start|>user\nSay hi.<|im_end|>\n<|im_start|>assistant\n"
    prompt = PromptInput(mode="text", text=chat)
    exact = engine.generate(ref, prompt, GenerationOptions(max_new_tokens=64))
    assert exact.finish_reason == "stop" and exact.new_tokens < 64  # it ended by itself
    fast = fast_answer(engine, ref, prompt, GenerationOptions(max_new_tokens=64, precision="fast"))
    assert (fast.finish_reason, fast.new_tokens) == ("stop", exact.new_tokens)
    streamed = list(
        engine.generate_stream(ref, prompt, GenerationOptions(max_new_tokens=64, precision="fast"))
    )
    assert streamed[-1].finish_reason == "stop" and streamed[-1].text == fast.text


def test_fast_perplexity_is_within_two_percent_of_exact(engine, marker_ref):
    texts = [t + MARKER for t in MARKER_PROMPTS]
    fast_answer(engine, marker_ref, PromptInput(mode="text", text=texts[0]), FAST)
    exact = _perplexity(engine, marker_ref, texts, "exact")
    fast = _perplexity(engine, marker_ref, texts, "fast")
    # The tiny model's distribution is flat, but tuned: well below uniform over its vocabulary
    # (a copy without the adapter, or broken, would be near uniform, far outside the bound).
    assert exact < len(engine.tokenizer(engine.spec(marker_ref))) / 2
    assert fast <= exact * 1.02, (fast, exact)


def test_an_option_the_engine_lacks_answers_exactly_and_says_so(
    engine, tiny_causal_dir, tiny_seq2seq_dir
):
    prompt = PromptInput(mode="text", text="Hello there")
    for opts, why in (
        (
            GenerationOptions(strategy="sample", typical_p=0.5, max_new_tokens=3, precision="fast"),
            "typical-p",
        ),
        (
            GenerationOptions(strategy="contrastive", max_new_tokens=3, precision="fast"),
            "contrastive",
        ),
    ):
        out = engine.generate(f"base:{tiny_causal_dir}", prompt, opts)
        assert (
            out.engine == "exact (fp32)" and why in out.note and "exact model answered" in out.note
        )
        assert out.new_tokens == 3
    t5 = engine.generate(f"base:{tiny_seq2seq_dir}", prompt, FAST)
    assert t5.engine == "exact (fp32)" and "Text-to-Text" in t5.note


def test_two_requests_at_once_and_a_long_one_holds_up_no_short_one(engine, tiny_causal_dir):
    ref = f"base:{tiny_causal_dir}"
    opts = GenerationOptions(max_new_tokens=12, precision="fast")
    prompts = [PromptInput(mode="text", text=t) for t in ("Once upon a time", "The weather is")]
    alone = [fast_answer(engine, ref, p, opts).text for p in prompts]
    together: list[str] = ["", ""]

    def ask(i: int) -> None:
        together[i] = engine.generate(ref, prompts[i], opts).text

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together == alone and alone[0] != alone[1]

    p = engine.prepare(engine.spec(ref), prompts[0], opts)
    fast = FastModel(engine.serving.fast_model(p, opts)[0].folder)
    ids = p.input_ids[0].tolist()
    order: list[str] = []
    decoding = threading.Event()

    def long() -> None:
        for i, _ in enumerate(fast.submit(ids, FastTurn(400, 400))):
            if i == 2:
                decoding.set()
        order.append("long")

    thread = threading.Thread(target=long)
    thread.start()
    decoding.wait(60)
    assert len(list(fast.submit(ids, FastTurn(3, 3)))) == 3
    order.append("short")
    thread.join()
    assert order == ["short", "long"]  # the short one did not wait for the long one's batch


def test_the_copy_is_dropped_and_rebuilt_when_the_model_changes(
    tmp_path, tiny_causal_dir, tuned_run_dir
):
    adapter = tmp_path / "adapter"
    shutil.copytree(Path(tuned_run_dir) / "adapter", adapter)
    release = threading.Event()
    built: list[str] = []

    def fake_run(command, state):  # the builder's work is tested above; here, the cache
        release.wait(30)
        out = Path(command[command.index("-o") + 1])
        out.mkdir(parents=True)
        (out / "genai_config.json").write_text("{}")
        built.append(state.key)

    builds = FastBuilds(tmp_path / "fast")
    builds._run = fake_run
    first = builds.state("job:x", str(tiny_causal_dir), str(adapter), layers=2)
    assert not first.ready and "converting" in first.progress()
    release.set()
    _until(lambda: first.ready)
    assert builds.state("job:x", str(tiny_causal_dir), str(adapter)) is first  # cached
    from safetensors.torch import load_file, save_file

    weights = adapter / "adapter_model.safetensors"
    tensors = load_file(weights)
    save_file({k: v + 0.01 for k, v in tensors.items()}, weights)  # "retrained"
    second = builds.state("job:x", str(tiny_causal_dir), str(adapter), layers=2)
    _until(lambda: second.ready)
    assert second.key != first.key and built == [first.key, second.key]
    assert not Path(first.folder).exists() and Path(second.folder).is_dir()
    assert "converted in" in second.progress()


def _until(check, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _fast_copy(engine, ref: str) -> tuple[str, list[int]]:
    """(the converted folder of `ref`, a prompt's ids), once its copy is ready."""
    opts = GenerationOptions(max_new_tokens=2, precision="fast")
    prompt = PromptInput(mode="text", text="Once upon a time")
    fast_answer(engine, ref, prompt, opts)
    p = engine.prepare(engine.spec(ref), prompt, opts)
    return engine.serving.fast_model(p, opts)[0].folder, p.input_ids[0].tolist()


def test_a_burst_is_shared_between_the_lanes(engine, tiny_causal_dir):
    from studio.generate.fast_runtime import LANES, MAX_BATCH

    folder, ids = _fast_copy(engine, f"base:{tiny_causal_dir}")
    fast = FastModel(folder)
    requests = [fast.submit(ids, FastTurn(6, 6)) for _ in range(2 * MAX_BATCH)]
    assert [len(list(r)) for r in requests] == [6] * (2 * MAX_BATCH)
    used = [lane.batch_sizes for lane in fast._lanes]
    assert len(fast._lanes) == LANES and all(used), used  # no lane stayed idle
    assert max(fast.batch_sizes) <= MAX_BATCH


def test_a_request_longer_than_an_engine_request_runs_on_its_own_generator(engine, tiny_causal_dir):
    folder, ids = _fast_copy(engine, f"base:{tiny_causal_dir}")
    fast = FastModel(folder)
    fast.engine_max_length = len(ids) + 4  # the Engine would stop after 4 new tokens
    long = fast.submit(ids, FastTurn(10, 10))
    assert len(list(long)) == 10
    assert fast.batch_sizes == []  # no lane saw it
    assert len(list(fast.submit(ids, FastTurn(3, 3)))) == 3 and fast.batch_sizes == [1]
