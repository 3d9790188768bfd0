"""What one generate() call needs: the prepared prompt (model, tokenizer, token ids, context),
the checks that it fits, and the keyword arguments of each decoding strategy.

No torch import here: the ids arrive as tensors made by the engine's tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.errors import StudioError
from studio.generate.cache import LoadedModel
from studio.generate.options import GenerationOptions, OptionsError
from studio.generate.refs import ModelSpec
from studio.generate.sampling import SAMPLING_KEYS, seeded_sampler
from studio.generate.strategies import Needs, common_kwargs


class PromptTooLongError(StudioError):
    """The prompt (plus the tokens asked for) does not fit the model's context."""


@dataclass
class Prepared:
    spec: ModelSpec
    entry: LoadedModel
    adapter: str | None
    tokenizer: Any
    text: str
    input_ids: Any
    context_length: int


def check_fits(spec: ModelSpec, n: int, ctx: int, options: GenerationOptions) -> None:
    """Refuse an empty prompt, one longer than the context, or one that leaves no room for
    the new tokens asked for (decoder-only models read both in one context)."""
    if n == 0:
        raise StudioError("The prompt is empty after tokenization; write something to send.")
    if n >= ctx:
        raise PromptTooLongError(
            f"The prompt is {n} tokens but {spec.label} reads at most {ctx}; shorten it."
        )
    if spec.model_type != "seq2seq" and n + options.max_new_tokens > ctx:
        raise OptionsError(
            [
                (
                    "max_new_tokens",
                    f"{options.max_new_tokens} new tokens after "
                    f"a {n}-token prompt exceed the context of {ctx} tokens; "
                    f"ask for at most {ctx - n}",
                )
            ]
        )


def generate_kwargs(
    p: Prepared, options: GenerationOptions, draft: Callable[[], Any]
) -> dict[str, Any]:
    """The keyword arguments of model.generate() for `options`: the common ones, then the
    strategy row's (`draft`: loads the draft model, called only by a builder that needs it).
    A sampling strategy draws with the seeded sampler (sampling.py) over greedy decoding."""
    row = options.row
    needs = Needs(p.spec.model_type == "seq2seq", p.spec.is_tuned, draft)
    kw = common_kwargs(options)
    extra = row.kwargs(options, needs)
    ids = p.input_ids
    if row.samples:
        params = {k: extra.pop(k) for k in SAMPLING_KEYS if k in extra}
        kw["num_return_sequences"] = 1  # each row of the repeated prompt draws on its own
        kw["logits_processor"] = [seeded_sampler(params, options.seed, ids.device)]
        ids = ids.repeat(options.num_return_sequences, 1)
    kw.update(extra)
    if options.stop:
        kw["tokenizer"] = p.tokenizer  # generate() needs it to match stop strings
    kw["input_ids"] = ids
    kw["attention_mask"] = ids.new_ones(ids.shape)
    kw["pad_token_id"] = p.tokenizer.pad_token_id
    return kw


def new_ids(p: Prepared, sequences) -> list:
    """The generated token ids of each returned sequence, without the prompt."""
    # Decoder-only outputs repeat the prompt; encoder-decoder outputs do not.
    if p.spec.model_type == "seq2seq":
        return [row for row in sequences]
    return [row[p.input_ids.shape[1] :] for row in sequences]
