"""Serving greedy and sampled generations through the batch scheduler (batcher.py).

The engine sends a request here when it can be batched: a causal model, strategy greedy or
sample, one return sequence. The tokens come back through the scheduler's per-request queue
and are detokenized here, in the caller's thread, so the model's thread only decodes
(no per-token text work or thread handoff inside the decode loop, which cost the old
TextIteratorStreamer path about 40% of its speed on a 2-core CPU).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from studio.generate.options import GenerationOptions
from studio.generate.sampling import SAMPLING_KEYS, seeded_sampler
from studio.generate.stream import StreamUpdate, trim_at_stop
from studio.models.loading import load_model

BATCHED_STRATEGIES = ("greedy", "sample")
# Architectures whose forward takes a left-padded batch cache with per-row position ids.
BATCHED_ARCHITECTURES = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3")

EXACT_LABEL = "exact (fp32)"
FAST_LABEL = "fast (int4)"


def batchable(model_type: str, model: Any, options: GenerationOptions) -> bool:
    """Whether this generation can run in the batch scheduler."""
    arch = getattr(getattr(model, "config", None), "model_type", "")
    return (
        model_type == "causal"
        and arch in BATCHED_ARCHITECTURES
        and options.strategy in BATCHED_STRATEGIES
        and options.num_return_sequences == 1
    )


def scheduler_for(engine, p, options: GenerationOptions) -> tuple[Any, str] | None:
    """(batch scheduler, which model answers) for a prepared request, None when it cannot
    be batched. "fast" on a CPU is the int4 copy (a LoRA adapter kept beside its base
    layers); on a GPU the exact model answers, and the label says so."""
    if not batchable(p.spec.model_type, p.entry.model, options):
        return None
    if options.precision == "fast" and p.entry.model.device.type == "cpu":
        from studio.generate.fast import FastModels

        if engine._fast is None:
            engine._fast = FastModels()
        source, kind = p.spec.full_dir or p.spec.base_ref, p.spec.model_type

        def base():
            return load_model(source, engine.settings, model_type=kind).eval()

        served = engine._fast.get(engine._key(p.spec), p.spec.adapter_dir, base)
        return served.scheduler, FAST_LABEL
    return engine.cache.scheduler(p.entry, p.adapter, p.spec.adapter_dir), EXACT_LABEL


def eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """Every end-of-sequence id the model's generation config or tokenizer names."""
    ids: set[int] = set()
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (config_eos, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value:
            ids.update(int(v) for v in value)
    return ids


def processors(options: GenerationOptions, prompt_length: int, eos: set[int]) -> list:
    """The per-request logits processors, in model.generate's order."""
    from transformers.generation.logits_process import (
        MinNewTokensLengthLogitsProcessor,
        NoRepeatNGramLogitsProcessor,
        RepetitionPenaltyLogitsProcessor,
    )

    out: list = []
    if options.min_new_tokens and eos:
        out.append(
            MinNewTokensLengthLogitsProcessor(prompt_length, options.min_new_tokens, sorted(eos))
        )
    if options.repetition_penalty != 1.0:
        out.append(RepetitionPenaltyLogitsProcessor(float(options.repetition_penalty)))
    if options.no_repeat_ngram_size:
        out.append(NoRepeatNGramLogitsProcessor(options.no_repeat_ngram_size))
    if options.strategy == "sample":
        params = {k: v for k, v in options.to_generate_kwargs().items() if k in SAMPLING_KEYS}
        out.append(seeded_sampler(params, options.seed))
    return out


def stream_batched(
    scheduler, prepared, options: GenerationOptions, state: StreamUpdate
) -> Iterator[StreamUpdate]:
    """Submit `prepared` to `scheduler`; yield `state` updated as each token arrives."""
    tok = prepared.tokenizer
    prompt = prepared.input_ids[0].tolist()
    eos = eos_ids(prepared.entry.model, tok)
    start = time.perf_counter()
    request = scheduler.submit(
        prompt, options.max_new_tokens, eos, processors(options, len(prompt), eos)
    )
    holdback = max((len(s) for s in options.stop), default=1) - 1
    text, stopped, ids = "", False, []
    try:
        for token in request:
            if state.ttft is None:
                state.ttft = time.perf_counter() - start
            ids.append(token)
            text = tok.decode(ids, skip_special_tokens=True)
            shown, stopped = trim_at_stop(text, options.stop)
            if stopped:
                request.cancel()  # a stop sequence: no more tokens wanted
            elif holdback:
                shown = text[: max(0, len(text) - holdback)]  # maybe a stop's beginning
            state.text, state.new_tokens = shown, len(ids)
            state.seconds = time.perf_counter() - start
            yield replace(state)  # a snapshot: consumers may keep every update
    finally:
        request.cancel()  # the consumer went away (closed stream): free the batch row
    state.text, stopped = trim_at_stop(text, options.stop)
    state.seconds = time.perf_counter() - start
    state.new_tokens = len(ids)
    state.status, state.texts = "done", [state.text]
    hit_eos = bool(ids) and ids[-1] in eos
    state.finish_reason = "stop" if stopped or hit_eos else "length"
    state.finish_reasons = [state.finish_reason]
    yield state
