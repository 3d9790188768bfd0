"""One table row per decoding strategy: its fields (type, range, default, label), the keyword
arguments it adds to `model.generate`, what the fast engine needs to run it, and what it can
do (stream token by token, join the batch scheduler, return several sequences).

Everything else reads this table: GenerationOptions (its fields and validation), the Generate
form (its widgets and their ranges), /v1's request parser (the extension parameters), the
batch scheduler and the fast engine (whether a request may go there). Adding a strategy is one
`Strategy(...)` row in STRATEGY_TABLE, plus its builder when it needs more than keyword
arguments, plus a test. No torch here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.generate.fields import (
    EARLY_STOPPING,
    LENGTH_PENALTY,
    MIN_P,
    NUM_BEAMS,
    TEMPERATURE,
    TOP_K,
    TOP_P,
    TYPICAL_P,
    Field,
    OptionsError,
    Problems,
)


class Needs:
    """What a kwargs builder may ask of the request being prepared: refuse an
    encoder-decoder model, or load the draft model (assisted decoding with the base)."""

    def __init__(self, seq2seq: bool = False, is_tuned: bool = False, draft=None):
        self.seq2seq, self.is_tuned, self._draft = seq2seq, is_tuned, draft

    def refuse_seq2seq(self, why: str) -> None:
        if self.seq2seq:
            raise OptionsError([("strategy", f"{why}; pick another strategy")])

    def draft(self) -> Any:
        if not self.is_tuned or self._draft is None:
            raise OptionsError(
                [
                    (
                        "assistant",
                        "the base model can only assist a trained model; use prompt_lookup "
                        "for a base model",
                    )
                ]
            )
        return self._draft()


def common_kwargs(o) -> dict[str, Any]:
    """model.generate keyword arguments every strategy shares. Sampling parameters a model's
    generation_config may carry (SmolLM2 ships temperature / top_p) are cleared, so greedy
    really is greedy; the sampling strategies draw with the engine's seeded sampler."""
    kw: dict[str, Any] = {
        "max_new_tokens": o.max_new_tokens,
        "num_return_sequences": o.num_return_sequences,
        "do_sample": False,
        "num_beams": 1,
        "temperature": None,
        "top_p": None,
        "top_k": None,
    }
    if o.min_new_tokens:
        kw["min_new_tokens"] = o.min_new_tokens
    if o.repetition_penalty != 1.0:
        kw["repetition_penalty"] = float(o.repetition_penalty)
    if o.no_repeat_ngram_size:
        kw["no_repeat_ngram_size"] = o.no_repeat_ngram_size
    if o.stop:
        kw["stop_strings"] = list(o.stop)
    return kw


# A fast-engine builder returns ONNX Runtime GenAI search options, or a sentence saying why
# this request cannot run there (it then answers exactly and the page says so).
FastBuilder = Callable[[Any], "dict[str, Any] | str"]


@dataclass(frozen=True)
class Strategy:
    name: str
    help: str
    fields: tuple[Field, ...] = ()  # the strategy's own options (the common ones are apart)
    # Keyword arguments for model.generate beyond the common ones (max tokens, penalties,
    # stop strings, inputs), from (options, needs).
    kwargs: Callable[[Any, Needs], dict[str, Any]] = lambda o, n: {}
    samples: bool = False  # draws tokens: the engine's seeded sampler applies its warpers
    streams: bool = True  # yields token by token (beam search answers once, when done)
    batches: bool = False  # may share the exact model's step-level batch scheduler
    many: bool = False  # may return several sequences
    fast: FastBuilder | None = None  # ONNX Runtime GenAI search options; None: never fast
    checks: Callable[[Any], Problems] = lambda o: []  # checks across fields

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _sample_kwargs(o, _needs) -> dict[str, Any]:
    kw: dict[str, Any] = {"temperature": float(o.temperature), "top_k": o.top_k or None}
    if o.top_p < 1.0:
        kw["top_p"] = float(o.top_p)
    if o.typical_p < 1.0:
        kw["typical_p"] = float(o.typical_p)
    if o.min_p > 0:
        kw["min_p"] = float(o.min_p)
    return kw


def _sample_fast(o) -> dict[str, Any] | str:
    if o.typical_p < 1.0 or o.min_p > 0:
        return "typical-p and min-p sampling are not in the fast engine"
    return {
        "do_sample": True,
        "temperature": float(o.temperature),
        "top_k": int(o.top_k) if o.top_k else 0,
        "top_p": float(o.top_p),
    }


def _beam_kwargs(o, _needs) -> dict[str, Any]:
    return {
        "num_beams": o.num_beams,
        "length_penalty": float(o.length_penalty),
        "early_stopping": bool(o.early_stopping),
    }


def _beam_fast(o) -> dict[str, Any]:
    return {
        "num_beams": int(o.num_beams),
        "length_penalty": float(o.length_penalty),
        "early_stopping": bool(o.early_stopping),
    }


def _beam_checks(o) -> Problems:
    n, beams = o.num_return_sequences, o.num_beams
    if isinstance(n, int) and isinstance(beams, int) and n > beams:
        return [("num_return_sequences", f"({n}) cannot exceed num_beams ({beams})")]
    return []


def _contrastive_kwargs(o, needs) -> dict[str, Any]:
    from studio.generate.contrastive import contrastive_search

    needs.refuse_seq2seq("contrastive search here supports text generators (causal models) only")
    return {
        "custom_generate": contrastive_search,
        "contrastive_alpha": o.penalty_alpha,
        "contrastive_top_k": o.contrastive_top_k,
    }


def _assisted_kwargs(o, needs) -> dict[str, Any]:
    if o.assistant == "prompt_lookup":
        return {"prompt_lookup_num_tokens": o.prompt_lookup_num_tokens}
    return {"assistant_model": needs.draft()}


STRATEGY_TABLE: tuple[Strategy, ...] = (
    Strategy(
        "greedy",
        "the most likely token each step",
        batches=True,
        fast=lambda o: {"do_sample": False},
    ),
    Strategy(
        "sample",
        "draw each token at random from the (warped) distribution",
        fields=(TEMPERATURE, TOP_K, TOP_P, TYPICAL_P, MIN_P),
        kwargs=_sample_kwargs,
        samples=True,
        batches=True,
        many=True,
        fast=_sample_fast,
    ),
    Strategy(
        "eta",
        "sampling that drops tokens below an entropy-dependent floor (Hewitt et al., 2022)",
        fields=(
            TEMPERATURE,
            Field(
                "eta_cutoff",
                float,
                3e-4,
                0,
                0.2,
                "Eta cutoff",
                step=1e-4,
                open_low=True,
                ui_high=0.01,
            ),
        ),
        kwargs=lambda o, _n: {
            "temperature": float(o.temperature),
            "eta_cutoff": float(o.eta_cutoff),
        },
        samples=True,
        batches=True,
        many=True,
    ),
    Strategy(
        "beam",
        "keep the num_beams most likely continuations",
        fields=(NUM_BEAMS, LENGTH_PENALTY, EARLY_STOPPING),
        kwargs=_beam_kwargs,
        streams=False,
        many=True,
        fast=_beam_fast,
        checks=_beam_checks,
    ),
    Strategy(
        "contrastive",
        "greedy-like, with a penalty on repeating what was said (Su et al., 2022)",
        fields=(
            Field("penalty_alpha", float, 0.6, 0, 1, "Degeneration penalty (alpha)", step=0.05),
            Field("contrastive_top_k", int, 4, 1, 20, "Candidates per step (top-k)"),
        ),
        kwargs=_contrastive_kwargs,
    ),
    Strategy(
        "assisted",
        "speculative decoding with a draft: n-grams from the prompt, or the base model",
        fields=(
            Field(
                "assistant",
                str,
                "prompt_lookup",
                label="Draft: n-grams from the prompt, or the base model",
                choices=("prompt_lookup", "base"),
            ),
            Field("prompt_lookup_num_tokens", int, 10, 1, 64, "Prompt lookup tokens", ui_high=32),
        ),
        kwargs=_assisted_kwargs,
    ),
)

STRATEGIES: dict[str, Strategy] = {s.name: s for s in STRATEGY_TABLE}


def strategy_fields() -> dict[str, Field]:
    """Every strategy's own fields by name, each once (strategies may share a field)."""
    out: dict[str, Field] = {}
    for strategy in STRATEGY_TABLE:
        for f in strategy.fields:
            if out.setdefault(f.name, f) != f:
                raise ValueError(f"field {f.name!r} is declared twice with different settings")
    return out
