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
from studio.generate.contrastive import contrastive_search
from studio.generate.options import GenerationOptions, OptionsError
from studio.generate.refs import ModelSpec
from studio.generate.sampling import SAMPLING_KEYS, seeded_sampler


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
    """The keyword arguments of model.generate() for `options` (`draft`: loads the draft
    model, called only for assisted decoding with the base model)."""
    kw = options.to_generate_kwargs()
    ids = p.input_ids
    if options.strategy == "sample":
        # Greedy over scores that a seeded sampler already decided (sampling.py).
        params = {k: kw.pop(k) for k in SAMPLING_KEYS if k in kw}
        kw.update(do_sample=False, num_return_sequences=1, temperature=None, top_p=None, top_k=None)
        kw["logits_processor"] = [seeded_sampler(params, options.seed, ids.device)]
        ids = ids.repeat(options.num_return_sequences, 1)
    if options.strategy == "contrastive":
        if p.spec.model_type == "seq2seq":
            raise OptionsError(
                [
                    (
                        "strategy",
                        "contrastive search here supports text "
                        "generators (causal models) only; pick another strategy",
                    )
                ]
            )

        kw.update(
            custom_generate=contrastive_search,
            contrastive_alpha=options.penalty_alpha,
            contrastive_top_k=options.contrastive_top_k,
        )
    if options.strategy == "assisted" and options.assistant == "base":
        if not p.spec.is_tuned:
            raise OptionsError(
                [
                    (
                        "assistant",
                        "the base model can only assist a trained "
                        "model; use prompt_lookup for a base model",
                    )
                ]
            )
        kw["assistant_model"] = draft()
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
