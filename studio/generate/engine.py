"""The generation engine: resolve a model ref, build its prompt, generate (streamed or not).

    engine = get_engine(settings, store)
    for update in engine.generate_stream("job:<id>", PromptInput(instruction=..., input=...),
                                         GenerationOptions(strategy="sample", seed=1)):
        print(update.text, update.stats())
    result = engine.generate("base:smollm2-135m-lora", PromptInput(mode="text", text="Hi"), opts)
    for left, right in engine.compare_stream("job:<id>", None, prompt, opts): ...  # vs its base

Models come from a shared ModelCache (base weights shared between adapters). Generation is
blocking CPU/GPU work: callers on an event loop run these in a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from studio.errors import StudioError
from studio.generate.cache import LoadedModel, ModelCache
from studio.generate.decoding import (
    Prepared,
    PromptTooLongError,  # noqa: F401 (raised by prepare)
    check_fits,
)
from studio.generate.options import GenerationOptions
from studio.generate.prompting import PromptInput, Rendered, render_for
from studio.generate.refs import ModelSpec, resolve_spec
from studio.generate.serving import Serving
from studio.generate.stream import StreamUpdate, interleave
from studio.generate.tokens import TokenizerCache, context_length
from studio.models.hf import hf_ready
from studio.models.loading import inference_dtype, load_model, load_tokenizer
from studio.settings import Settings


class Engine:
    def __init__(self, settings: Settings, store, cache: ModelCache | None = None):
        self.settings = settings
        self.store = store
        self.cache = cache or ModelCache(settings.model_cache_size)
        self._tokenizers = TokenizerCache()
        self.serving = Serving(settings, self.cache)  # which engine answers; the fast copies

    # -- models -------------------------------------------------------------------------
    def spec(self, ref: str) -> ModelSpec:
        return resolve_spec(ref, self.store, self.settings)

    @staticmethod
    def _key(spec: ModelSpec) -> str:
        return f"full:{spec.full_dir}" if spec.full_dir else f"model:{spec.base_ref}"

    @staticmethod
    def _adapter_name(spec: ModelSpec) -> str | None:
        # Adapter names become module attribute keys in peft: keep them identifier-like.
        return "job_" + spec.ref.split(":", 1)[1].replace("-", "_") if spec.adapter_dir else None

    def is_loaded(self, spec: ModelSpec) -> bool:
        return self.cache.is_loaded(self._key(spec), self._adapter_name(spec))

    def load(self, spec: ModelSpec) -> tuple[LoadedModel, str | None]:
        """The cached model for `spec` and the adapter name to activate (None = base)."""

        source = spec.full_dir or spec.base_ref

        def build():
            model = load_model(
                source,
                self.settings,
                model_type=spec.model_type,
                model_cfg={"dtype": inference_dtype()},
            )
            model.eval()
            return model

        entry = self.cache.get(self._key(spec), build, spec.model_type)
        name = self._adapter_name(spec)
        if name:
            self.cache.ensure_adapter(entry, name, spec.adapter_dir)
        return entry, name

    def tokenizer(self, spec: ModelSpec):
        """The tokenizer saved with the trained model, else the base model's."""
        folder = spec.adapter_dir or spec.full_dir

        def load():
            if not folder:
                return load_tokenizer(spec.base_ref, self.settings)

            hf_ready()
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(folder)
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            return tok

        return self._tokenizers.get(folder or spec.base_ref, load)

    def render(self, ref: str, prompt: PromptInput) -> str:
        """The exact text the model will be sent (the page shows it live)."""
        return self.rendered(self.spec(ref), prompt).text

    def rendered(self, spec: ModelSpec, prompt: PromptInput) -> Rendered:
        """`prompt` as `spec` was trained to read it (format, section style, preamble)."""
        return render_for(prompt, self.tokenizer(spec), spec.prompt_format, spec.layout)

    # -- preparation --------------------------------------------------------------------
    def prepare(
        self,
        spec: ModelSpec,
        prompt: PromptInput,
        options: GenerationOptions,
        rendered: Rendered | None = None,
    ) -> Prepared:
        """Load the model and tokenize the prompt (`rendered`: text already rendered, e.g. the
        tuned model's prompt sent unchanged to its base in Compare)."""
        options.checked()
        entry, adapter = self.load(spec)
        tok = self.tokenizer(spec)
        rendered = rendered or self.rendered(spec, prompt)
        text = rendered.text
        ids = tok(text, return_tensors="pt", add_special_tokens=rendered.special)["input_ids"]
        ctx = context_length(entry.model, tok)
        check_fits(spec, int(ids.shape[1]), ctx, options)
        return Prepared(spec, entry, adapter, tok, text, ids.to(entry.model.device), ctx)

    def check(self, ref: str, prompt: PromptInput, options: GenerationOptions) -> None:
        """Raise what generate() would raise for this request (loads the model)."""
        self.prepare(self.spec(ref), prompt, options)

    @staticmethod
    def _state(p: Prepared) -> StreamUpdate:
        return StreamUpdate(
            status="generating",
            model=p.spec.label,
            prompt=p.text,
            prompt_tokens=int(p.input_ids.shape[1]),
        )

    # -- generation ---------------------------------------------------------------------
    def generate(
        self,
        ref: str,
        prompt: PromptInput,
        options: GenerationOptions,
        rendered: Rendered | None = None,
    ) -> StreamUpdate:
        """Every returned sequence at once (non-streaming)."""
        p = self.prepare(self.spec(ref), prompt, options, rendered)
        return self.serving.whole(p, options, self._state(p))

    def generate_stream(
        self,
        ref: str,
        prompt: PromptInput,
        options: GenerationOptions,
        rendered: Rendered | None = None,
    ) -> Iterator[StreamUpdate]:
        """Yield the growing text (whole text each time) with tokens/s and time to first token.

        Says "Loading <model>…" first when the model is not in memory yet. Beam search and
        several return sequences cannot stream token by token: they yield once, when done.
        """
        spec = self.spec(ref)
        options.checked()
        if not self.is_loaded(spec):
            yield StreamUpdate(status="loading", message=f"Loading {spec.label}…", model=spec.label)
        p = self.prepare(spec, prompt, options, rendered)
        yield from self.serving.stream(p, options, self._state(p))

    def compare_stream(
        self, left_ref: str, right_ref: str | None, prompt: PromptInput, options: GenerationOptions
    ) -> Iterator[tuple[StreamUpdate, StreamUpdate]]:
        """The same prompt through two models at once; right defaults to left's real base.

        The prompt is rendered once, as the left (tuned) model was trained to read it, and
        both sides get exactly that text.
        """
        left = self.spec(left_ref)
        if not right_ref:
            if not left.is_tuned:
                raise StudioError(
                    "Compare needs a trained model on the left (its base goes on the right), "
                    "or pick a second model to compare with."
                )
            right_ref = left.base_spec_ref
        options.checked()
        rendered = self.rendered(left, prompt)
        yield from interleave(
            lambda: self.generate_stream(left_ref, prompt, options, rendered),
            lambda: self.generate_stream(right_ref, prompt, options, rendered),
        )


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings, store) -> Engine:
    """The process-wide engine for this studio home (the UI and the HTTP API share it)."""
    key = str(settings.home)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = Engine(settings, store)
        return _engines[key]
