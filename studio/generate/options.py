"""GenerationOptions: every decoding strategy the playground offers, with its parameters.

One dataclass holds them all; `validate()` collects every mistake into one OptionsError
(naming each field) and `to_generate_kwargs()` turns the options into the keyword arguments
of transformers' `model.generate`. No torch import here: the UI and the HTTP API build and
check options without loading a model.

Strategies:
- greedy: the most likely token each step.
- sample: multinomial sampling with temperature, top-k, top-p, typical-p, min-p.
- beam: beam search with num_beams, length_penalty, early_stopping.
- contrastive: contrastive search (penalty_alpha, contrastive_top_k). transformers 5 moved it to a Hub
  repo that runs remote code; the studio ships its own implementation (contrastive.py).
- assisted: speculative decoding with a draft: prompt lookup (n-grams from the prompt) or,
  for a tuned model, its base model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from studio.errors import ConfigError

STRATEGIES = ("greedy", "sample", "beam", "contrastive", "assisted")
PRECISIONS = ("fast", "exact")
ASSISTANTS = ("prompt_lookup", "base")
MAX_STOP_SEQUENCES = 8
MAX_RETURN_SEQUENCES = 8


class OptionsError(ConfigError):
    """Invalid generation options; `fields` names the offending option per problem."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.fields = [name for name, _ in problems]
        super().__init__([f"{name}: {msg}" for name, msg in problems])


@dataclass
class GenerationOptions:
    strategy: str = "greedy"  # one of STRATEGIES
    max_new_tokens: int = 64  # at most this many new tokens (1..context length)
    min_new_tokens: int = 0  # no end-of-sequence before this many tokens
    # sample
    temperature: float = 0.7  # > 0 and <= 2; higher is more random
    top_k: int = 50  # keep the k most likely tokens (0 = off)
    top_p: float = 1.0  # nucleus: smallest set with this much probability (1 = off)
    typical_p: float = 1.0  # locally typical sampling mass (1 = off)
    min_p: float = 0.0  # drop tokens below min_p * p(best) (0 = off)
    # beam
    num_beams: int = 4
    length_penalty: float = 1.0  # > 1 favours longer beams, < 1 shorter
    early_stopping: bool = True  # stop when num_beams finished candidates exist
    # contrastive
    penalty_alpha: float = 0.6  # weight of the degeneration penalty (0 = greedy)
    contrastive_top_k: int = 4  # candidates per step (each costs a forward pass: keep 2-10)
    # assisted
    assistant: str = "prompt_lookup"  # one of ASSISTANTS
    prompt_lookup_num_tokens: int = 10  # draft length for prompt lookup
    # common
    repetition_penalty: float = 1.0  # > 1 discourages repeats (1 = off)
    no_repeat_ngram_size: int = 0  # never repeat an n-gram of this size (0 = off)
    stop: list[str] = field(default_factory=list)  # stop at (and cut) any of these strings
    num_return_sequences: int = 1  # sample: independent samples; beam: best beams (<= num_beams)
    seed: int | None = None  # makes sampling repeatable
    precision: str = "exact"  # "fast": int4 weights on a CPU; "exact": the fp32 model

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GenerationOptions:
        """Options from a dict; unknown keys are an error naming them (typos must not pass)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OptionsError([(k, "is not a generation option") for k in unknown])
        opts = cls(**values)
        return opts.validate()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def samples(self) -> bool:
        return self.strategy == "sample"

    def validate(self, context_length: int | None = None) -> GenerationOptions:
        """Check every field; raise one OptionsError listing all problems. Returns self."""
        problems: list[tuple[str, str]] = []

        def check(name: str, ok: bool, msg: str) -> None:
            if not ok:
                problems.append((name, msg))

        def is_int(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v: Any) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool)

        check(
            "strategy",
            self.strategy in STRATEGIES,
            f"{self.strategy!r} is not a strategy; choose one of {', '.join(STRATEGIES)}",
        )
        check(
            "precision",
            self.precision in PRECISIONS,
            f"{self.precision!r} is not a precision; choose fast or exact",
        )
        limit = context_length or 1_000_000
        max_ok = is_int(self.max_new_tokens) and 1 <= self.max_new_tokens <= limit
        check(
            "max_new_tokens",
            max_ok,
            f"must be a whole number from 1 to {limit} (the context length); "
            f"got {self.max_new_tokens!r}",
        )
        min_ok = is_int(self.min_new_tokens) and self.min_new_tokens >= 0
        check("min_new_tokens", min_ok, f"must be 0 or more; got {self.min_new_tokens!r}")
        if min_ok and max_ok:
            check(
                "min_new_tokens",
                self.min_new_tokens <= self.max_new_tokens,
                f"({self.min_new_tokens}) cannot exceed max_new_tokens ({self.max_new_tokens})",
            )
        if self.strategy == "sample":
            check(
                "temperature",
                is_num(self.temperature) and 0 < self.temperature <= 2,
                f"must be above 0 and at most 2 for sampling (use the greedy strategy for "
                f"temperature 0); got {self.temperature!r}",
            )
            check(
                "top_p",
                is_num(self.top_p) and 0 < self.top_p <= 1,
                f"must be above 0 and at most 1; got {self.top_p!r}",
            )
            check(
                "typical_p",
                is_num(self.typical_p) and 0 < self.typical_p <= 1,
                f"must be above 0 and at most 1; got {self.typical_p!r}",
            )
            check(
                "min_p",
                is_num(self.min_p) and 0 <= self.min_p < 1,
                f"must be from 0 up to (not including) 1; got {self.min_p!r}",
            )
        if self.strategy == "sample":
            check(
                "top_k",
                is_int(self.top_k) and 0 <= self.top_k <= 1000,
                f"must be a whole number from 0 (off) to 1000; got {self.top_k!r}",
            )
        if self.strategy == "beam":
            check(
                "num_beams",
                is_int(self.num_beams) and 2 <= self.num_beams <= 16,
                f"must be a whole number from 2 to 16; got {self.num_beams!r}",
            )
            check(
                "length_penalty",
                is_num(self.length_penalty) and -10 <= self.length_penalty <= 10,
                f"must be between -10 and 10; got {self.length_penalty!r}",
            )
            if is_int(self.num_beams) and is_int(self.num_return_sequences):
                check(
                    "num_return_sequences",
                    self.num_return_sequences <= self.num_beams,
                    f"({self.num_return_sequences}) cannot exceed num_beams ({self.num_beams})",
                )
        if self.strategy == "contrastive":
            check(
                "penalty_alpha",
                is_num(self.penalty_alpha) and 0 <= self.penalty_alpha <= 1,
                f"must be from 0 to 1; got {self.penalty_alpha!r}",
            )
            check(
                "contrastive_top_k",
                is_int(self.contrastive_top_k) and 1 <= self.contrastive_top_k <= 20,
                f"must be a whole number from 1 to 20; got {self.contrastive_top_k!r}",
            )
        if self.strategy == "assisted":
            check(
                "assistant",
                self.assistant in ASSISTANTS,
                f"{self.assistant!r} is not an assistant; choose one of {', '.join(ASSISTANTS)}",
            )
            check(
                "prompt_lookup_num_tokens",
                is_int(self.prompt_lookup_num_tokens) and 1 <= self.prompt_lookup_num_tokens <= 64,
                f"must be a whole number from 1 to 64; got {self.prompt_lookup_num_tokens!r}",
            )
        check(
            "repetition_penalty",
            is_num(self.repetition_penalty) and 0 < self.repetition_penalty <= 10,
            f"must be above 0 and at most 10 (1 = off); got {self.repetition_penalty!r}",
        )
        check(
            "no_repeat_ngram_size",
            is_int(self.no_repeat_ngram_size) and 0 <= self.no_repeat_ngram_size <= 20,
            f"must be a whole number from 0 (off) to 20; got {self.no_repeat_ngram_size!r}",
        )
        stops_ok = isinstance(self.stop, list) and all(isinstance(s, str) and s for s in self.stop)
        check(
            "stop",
            stops_ok and len(self.stop) <= MAX_STOP_SEQUENCES,
            f"must be a list of at most {MAX_STOP_SEQUENCES} non-empty strings",
        )
        n_ok = is_int(self.num_return_sequences) and 1 <= self.num_return_sequences
        check(
            "num_return_sequences",
            n_ok and self.num_return_sequences <= MAX_RETURN_SEQUENCES,
            f"must be a whole number from 1 to {MAX_RETURN_SEQUENCES}; "
            f"got {self.num_return_sequences!r}",
        )
        if n_ok and self.strategy in ("greedy", "contrastive", "assisted"):
            check(
                "num_return_sequences",
                self.num_return_sequences == 1,
                f"the {self.strategy} strategy returns one sequence; use sample or beam for more",
            )
        check(
            "seed",
            self.seed is None or (is_int(self.seed) and 0 <= self.seed < 2**32),
            f"must be empty or a whole number from 0 to {2**32 - 1}; got {self.seed!r}",
        )
        if problems:
            raise OptionsError(problems)
        return self

    def to_generate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `model.generate` (the engine adds inputs, streamer, tokenizer,
        the stop criteria and, for contrastive / assisted, the decoding function or draft)."""
        kw: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "num_return_sequences": self.num_return_sequences,
            "do_sample": self.strategy == "sample",
            "num_beams": self.num_beams if self.strategy == "beam" else 1,
        }
        if self.min_new_tokens:
            kw["min_new_tokens"] = self.min_new_tokens
        if self.repetition_penalty != 1.0:
            kw["repetition_penalty"] = float(self.repetition_penalty)
        if self.no_repeat_ngram_size:
            kw["no_repeat_ngram_size"] = self.no_repeat_ngram_size
        if self.stop:
            kw["stop_strings"] = list(self.stop)
        if self.strategy == "sample":
            kw.update(
                temperature=float(self.temperature),
                top_k=self.top_k or None,
                top_p=float(self.top_p),
            )
            if self.typical_p < 1.0:
                kw["typical_p"] = float(self.typical_p)
            if self.min_p > 0:
                kw["min_p"] = float(self.min_p)
        else:
            # Override sampling defaults a model's generation_config may carry (e.g. SmolLM2
            # ships temperature/top_p), so greedy really is greedy and warnings stay quiet.
            kw.update(temperature=None, top_p=None, top_k=None)
        if self.strategy == "beam":
            kw.update(
                length_penalty=float(self.length_penalty), early_stopping=bool(self.early_stopping)
            )
        if self.strategy == "assisted" and self.assistant == "prompt_lookup":
            kw["prompt_lookup_num_tokens"] = self.prompt_lookup_num_tokens
        return kw
