"""How a prepared request is answered: the fast engine, the exact batch scheduler, or the
exact model's own generate(). The Serving object belongs to the Engine and owns its
fast-model cache (converted copies, loaded models), and reads the shared model cache only
through its public methods.

    serving = Serving(settings, cache)
    for update in serving.stream(prepared, options, state): ...
    result = serving.whole(prepared, options, state)

Whichever answers, the token ids go through the one end-of-generation loop
(studio.generate.ending). "fast" on a CPU is ONNX Runtime GenAI (fast_runtime.py) on a copy
converted once in the background (fast_build.py); until that copy is ready, or for an option
the engine lacks, the exact model answers and `state.note` says why.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from studio.generate.cache import ModelCache
from studio.generate.decoding import Prepared, generate_kwargs, new_ids
from studio.generate.ending import finish_rows, follow_tokens
from studio.generate.fast_build import FastBuilds, unsupported_reason
from studio.generate.fast_runtime import FastModel, FastTurn
from studio.generate.options import GenerationOptions
from studio.generate.sampling import SAMPLING_KEYS, seeded_sampler
from studio.generate.stream import StreamUpdate, TokenStreamer, run_in_thread
from studio.models.loading import inference_dtype, load_model
from studio.models.resolve import resolve_model_path
from studio.settings import Settings

log = logging.getLogger(__name__)
# Architectures whose forward takes a left-padded batch cache with per-row position ids.
BATCHED_ARCHITECTURES = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3")
EXACT_LABEL = "exact (fp32)"
FAST_LABEL = "fast (ONNX Runtime GenAI, int8)"
MAX_FAST_MODELS = 4  # converted models kept loaded


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
    """The batch scheduler's per-request logits processors, in model.generate's order."""
    from transformers.generation import logits_process as lp

    out: list = []
    if options.min_new_tokens and eos:
        out.append(
            lp.MinNewTokensLengthLogitsProcessor(prompt_length, options.min_new_tokens, sorted(eos))
        )
    if options.repetition_penalty != 1.0:
        out.append(lp.RepetitionPenaltyLogitsProcessor(float(options.repetition_penalty)))
    if options.no_repeat_ngram_size:
        out.append(lp.NoRepeatNGramLogitsProcessor(options.no_repeat_ngram_size))
    if options.row.samples:
        extra = options.row.kwargs(options, None)
        params = {k: v for k, v in extra.items() if k in SAMPLING_KEYS}
        out.append(seeded_sampler(params, options.seed))
    return out


class Serving:
    """Routes requests (see the module doc); one per Engine."""

    def __init__(self, settings: Settings, cache: ModelCache):
        self.settings = settings
        self.cache = cache
        self.builds = FastBuilds(settings.models_dir / "fast")
        self._fast: OrderedDict[str, FastModel] = OrderedDict()
        self._lock = threading.Lock()

    # -- which engine ---------------------------------------------------------------
    def fast_model(self, p: Prepared, options: GenerationOptions) -> tuple[FastModel | None, str]:
        """(the fast model to answer with, or None; why not, or how far its conversion is)."""
        if options.precision != "fast":
            return None, ""
        if p.entry.model.device.type != "cpu":
            return None, "on a GPU the exact model is the fast path"
        arch = getattr(p.entry.model.config, "model_type", "")
        reason = unsupported_reason(p.spec.model_type, arch)
        if not reason and options.row.fast is None:
            reason = f"the fast engine has no {options.strategy} decoding"
        if not reason and isinstance(options.row.fast(options), str):
            reason = options.row.fast(options)
        if reason:
            return None, f"{reason}: the exact model answered"
        try:
            import onnxruntime_genai  # noqa: F401
        except ImportError as exc:
            return None, f"the fast engine is not installed ({exc}): the exact model answered"
        source = p.spec.full_dir or resolve_model_path(p.spec.base_ref, self.settings)
        if not Path(source).is_dir():
            return None, "the fast engine converts local model folders only"
        layers = int(getattr(p.entry.model.config, "num_hidden_layers", 0) or 0)
        state = self.builds.state(p.spec.ref, source, p.spec.adapter_dir, layers)
        if not state.ready:
            return None, f"fast copy not ready ({state.progress()}): the exact model answered"
        with self._lock:
            fast = self._fast.get(state.folder)
            if fast is None:
                try:
                    fast = self._fast[state.folder] = FastModel(state.folder)
                except Exception as exc:  # a copy the runtime refuses: exact, and why
                    log.exception("the fast engine could not load %s", state.folder)
                    return (
                        None,
                        f"the fast engine could not load its copy ({exc}): the exact model answered",
                    )
                while len(self._fast) > MAX_FAST_MODELS:
                    self._fast.popitem(last=False)
            self._fast.move_to_end(state.folder)
        # The first fast answer says how long its conversion took; later ones need not.
        announce = state.seconds and not state.announced
        state.announced = True
        return fast, state.progress() if announce else ""

    def batchable(self, p: Prepared, options: GenerationOptions) -> bool:
        """Whether the exact model's batch scheduler may serve this request."""
        arch = getattr(getattr(p.entry.model, "config", None), "model_type", "")
        return (
            p.spec.model_type == "causal"
            and arch in BATCHED_ARCHITECTURES
            and options.row.batches
            and options.num_return_sequences == 1
        )

    # -- answering ------------------------------------------------------------------
    def stream(
        self, p: Prepared, options: GenerationOptions, state: StreamUpdate
    ) -> Iterator[StreamUpdate]:
        """Token-by-token updates, then the finished state (once, when it cannot stream)."""
        fast, note = self.fast_model(p, options)
        state.note = note
        state.engine = FAST_LABEL if fast else EXACT_LABEL
        prompt = p.input_ids[0].tolist()
        eos = eos_ids(p.entry.model, p.tokenizer)
        one = options.num_return_sequences == 1 and options.row.streams
        if fast is not None and one:
            turn = self._turn(options, prompt)
            seeded = options.row.samples and options.seed is not None
            request = fast.stream(prompt, turn) if seeded else fast.submit(prompt, turn)
            yield from follow_tokens(
                request, self._decode(p), options.stop, eos, state, request.cancel
            )
        elif fast is not None:
            yield self._fast_rows(fast, p, options, prompt, eos, state)
        elif one and self.batchable(p, options):
            scheduler = self.cache.scheduler(p.entry, p.adapter, p.spec.adapter_dir)
            request = scheduler.submit(
                prompt, options.max_new_tokens, eos, processors(options, len(prompt), eos)
            )
            yield from follow_tokens(
                request, self._decode(p), options.stop, eos, state, request.cancel
            )
        elif one:
            yield from self._exact_stream(p, options, eos, state)
        else:
            yield self._exact_rows(p, options, eos, state)

    def whole(self, p: Prepared, options: GenerationOptions, state: StreamUpdate) -> StreamUpdate:
        """The finished state of a non-streamed request."""
        return deque(self.stream(p, options, state), maxlen=1)[0]

    def _decode(self, p: Prepared):
        return lambda ids: p.tokenizer.decode(ids, skip_special_tokens=True)

    @staticmethod
    def _turn(options: GenerationOptions, prompt: list[int]) -> FastTurn:
        search = dict(options.row.fast(options))
        if options.repetition_penalty != 1.0:
            search["repetition_penalty"] = float(options.repetition_penalty)
        if options.no_repeat_ngram_size:
            search["no_repeat_ngram_size"] = int(options.no_repeat_ngram_size)
        if options.row.samples and options.seed is not None:
            search["random_seed"] = int(options.seed)
        return FastTurn(options.max_new_tokens, options.min_new_tokens, search)

    def _fast_rows(self, fast: FastModel, p, options, prompt, eos, state) -> StreamUpdate:
        turn = self._turn(options, prompt)
        if options.row.samples:  # one seeded generator per sequence (seed, seed + 1, ...)
            rows = []
            for i in range(options.num_return_sequences):
                if options.seed is not None:
                    turn.search["random_seed"] = int(options.seed) + i
                rows += fast.generate(prompt, turn)
        else:
            rows = fast.generate(prompt, turn, rows=options.num_return_sequences)
        return finish_rows(
            rows, self._decode(p), options.stop, eos, p.tokenizer.pad_token_id, state
        )

    def _exact_rows(self, p: Prepared, options, eos, state) -> StreamUpdate:
        with self.cache.use(p.entry, p.adapter, p.spec.adapter_dir):
            out = p.entry.model.generate(**generate_kwargs(p, options, lambda: self.draft(p)))
        return finish_rows(
            new_ids(p, out), self._decode(p), options.stop, eos, p.tokenizer.pad_token_id, state
        )

    def _exact_stream(self, p: Prepared, options, eos, state) -> Iterator[StreamUpdate]:
        from transformers import StoppingCriteria, StoppingCriteriaList

        streamer = TokenStreamer()
        cancelled = threading.Event()

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                import torch

                return torch.full((input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool)

        kwargs = generate_kwargs(p, options, lambda: self.draft(p))
        kwargs["stopping_criteria"] = StoppingCriteriaList([Cancelled()])
        if "custom_generate" in kwargs:
            kwargs["contrastive_streamer"] = streamer
        errors: list[BaseException] = []

        def work():
            with self.cache.use(p.entry, p.adapter, p.spec.adapter_dir):
                p.entry.model.generate(**kwargs, streamer=streamer)
            streamer.end()

        def failed(exc: BaseException):
            errors.append(exc)
            streamer.end()  # wake the loop below

        thread = run_in_thread(work, failed)
        yield from follow_tokens(streamer, self._decode(p), options.stop, eos, state, cancelled.set)
        thread.join()
        if errors:
            raise errors[0]

    def draft(self, p: Prepared) -> Any:
        """A separate plain copy of the base as the draft model (the shared entry cannot run
        with and without its adapter inside one generate call), kept on the entry it assists."""
        base_ref = p.spec.base_ref
        return self.cache.draft(
            p.entry,
            lambda: load_model(
                base_ref, self.settings, model_cfg={"dtype": inference_dtype()}
            ).eval(),
        )
