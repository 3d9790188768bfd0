"""A bounded LRU of loaded models for generation, sharing base weights between adapters.

One cache entry per base model (or per fully fine-tuned model). Trained LoRA adapters on the
same base are loaded into that one entry by name (PeftModel.load_adapter), so five tuned
versions of SmolLM2 cost one SmolLM2 plus five small adapters. The least recently used entry
is dropped when more than `size` are loaded, and the least recently used adapter of an entry
is unloaded when it holds more than `max_adapters` (an adapter a generation is using stays
until that generation ends). The plain base copy that assisted decoding drafts with lives on
the entry it assists (`draft`), so it takes no slot and can never evict its own target.

Thread safety: several requests may generate on one entry at once (a tuned model and its
base side by side in Compare, two browser tabs, the HTTP API). Each generation declares
which adapter it wants (`entry.use(name)`, None = the base with every adapter disabled, the
same switch as PeftModel.disable_adapter()), and a forward pre-hook on the model takes the
entry's lock and switches the adapter state for that forward pass only; a forward hook
releases it. Streams on one entry therefore interleave token by token, each seeing exactly
its own weights.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

_wanted = threading.local()  # per thread: {entry id: adapter name or None}
MAX_ADAPTERS = 4  # LoRA adapters kept loaded per base model; a LoRA is small, not free


@dataclass
class LoadedModel:
    """A model in memory: the transformers model (LoRA layers injected when adapters are
    loaded), its PeftModel wrapper if any, and the lock guarding its adapter state."""

    key: str
    model: Any  # the transformers model; generate() is called on this
    model_type: str = "causal"
    peft: Any = None  # PeftModel wrapping `model` once an adapter is loaded
    adapters: OrderedDict[str, str] = field(default_factory=OrderedDict)  # name -> folder, LRU
    lock: threading.RLock = field(default_factory=threading.RLock)
    draft: Any = None  # a plain copy of the base for assisted decoding, loaded on demand
    draft_lock: threading.Lock = field(default_factory=threading.Lock)
    schedulers: dict = field(default_factory=dict)  # adapter name -> BatchScheduler
    _users: Counter = field(default_factory=Counter)  # adapter name -> generations using it
    _current: tuple[bool, str | None] = (True, None)  # (adapters enabled, active name)
    _hooks: list = field(default_factory=list)

    def install_hooks(self) -> None:
        """Switch adapters under the lock around every forward pass of `model`."""

        def pre(_module, _args):
            self.lock.acquire()
            try:
                self._apply(getattr(_wanted, "by_entry", {}).get(id(self), None))
            except BaseException:
                self.lock.release()
                raise

        def post(_module, _args, _output):
            self.lock.release()

        self._hooks = [
            self.model.register_forward_pre_hook(pre),
            self.model.register_forward_hook(post, always_call=True),
        ]

    def _apply(self, adapter: str | None) -> None:
        if self.peft is None:
            return
        want = (adapter is not None, adapter or self._current[1])
        if want == self._current:
            return
        if adapter is None:
            self.peft.base_model.disable_adapter_layers()
        else:
            if not self._current[0]:
                self.peft.base_model.enable_adapter_layers()
            if adapter != self._current[1]:
                self.peft.set_adapter(adapter, inference_mode=True)
        self._current = want

    @contextmanager
    def use(self, adapter: str | None) -> Iterator[None]:
        """Within this block, this thread's forward passes run with `adapter` (None = base)."""
        if adapter is not None and adapter not in self.adapters:
            raise KeyError(f"adapter {adapter!r} is not loaded in {self.key}")
        table = getattr(_wanted, "by_entry", None)
        if table is None:
            table = _wanted.by_entry = {}
        previous = table.get(id(self), None)
        table[id(self)] = adapter
        with self.lock:
            self._users[adapter] += 1
        try:
            yield
        finally:
            table[id(self)] = previous
            with self.lock:
                self._users[adapter] -= 1

    def unload_adapter(self, name: str) -> None:
        """Delete adapter `name` from the model (caller holds `lock`; not while in use)."""
        del self.adapters[name]
        # Leave peft in a known state first: the most recently used adapter active, enabled.
        newest = next(reversed(self.adapters))
        self.peft.base_model.enable_adapter_layers()
        self.peft.set_adapter(newest, inference_mode=True)
        self._current = (True, newest)
        self.peft.delete_adapter(name)


class ModelCache:
    """LRU of LoadedModel entries, at most `size` of them; load functions are injected so the
    cache itself imports nothing heavy and tests can count loads."""

    def __init__(self, size: int = 2, max_adapters: int = MAX_ADAPTERS):
        self.size = max(1, int(size))
        self.max_adapters = max(1, int(max_adapters))
        self._entries: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self.loads = 0  # how many times a model was actually loaded (tests, stats)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def is_loaded(self, key: str, adapter: str | None = None) -> bool:
        """Whether `key` (and `adapter` in it) is in memory, i.e. no loading wait."""
        with self._lock:
            entry = self._entries.get(key)
        return entry is not None and (adapter is None or adapter in entry.adapters)

    def get(self, key: str, load: Callable[[], Any], model_type: str = "causal") -> LoadedModel:
        """The entry for `key`, loading it with `load()` (-> model) the first time."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:  # one load per key even when two requests arrive together
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    return entry
            log.info("loading %s", key)
            model = load()
            self.loads += 1
            entry = LoadedModel(key=key, model=model, model_type=model_type)
            entry.install_hooks()
            with self._lock:
                self._entries[key] = entry
                self._loading.pop(key, None)
                self._evict()
            return entry

    def draft(self, entry: LoadedModel, load: Callable[[], Any]) -> Any:
        """The draft model assisting `entry` (loaded with `load()` once, dropped with it)."""
        with entry.draft_lock:
            if entry.draft is None:
                log.info("loading the draft model for %s", entry.key)
                entry.draft = load()
                self.loads += 1
            return entry.draft

    @contextmanager
    def use(self, entry: LoadedModel, name: str | None, adapter_dir: str = "") -> Iterator[None]:
        """entry.use(name), (re)loading adapter `name` first: loading and marking it in use
        happen under one lock, so the adapter bound cannot unload it in between."""
        with ExitStack() as stack:
            with entry.lock:
                if name is not None:
                    self.ensure_adapter(entry, name, adapter_dir)
                stack.enter_context(entry.use(name))
            yield

    def scheduler(self, entry: LoadedModel, name: str | None, adapter_dir: str = ""):
        """The batch scheduler serving `entry` with adapter `name` (None = the base): its
        forward passes run inside use(), so they see exactly that adapter."""
        from studio.generate.batcher import BatchScheduler

        with entry.lock:
            if name not in entry.schedulers:
                entry.schedulers[name] = BatchScheduler(
                    entry.model, context=lambda: self.use(entry, name, adapter_dir)
                )
            return entry.schedulers[name]

    def ensure_adapter(self, entry: LoadedModel, name: str, adapter_dir: str) -> None:
        """Load the LoRA adapter in `adapter_dir` into `entry` under `name` (once), then unload
        the least recently used adapters not in use beyond `max_adapters`."""
        with entry.lock:
            if name in entry.adapters:
                entry.adapters.move_to_end(name)
                return
            if entry.peft is None:
                from peft import PeftModel

                # Wrapping injects LoRA layers into entry.model in place; the hooks stay on it.
                entry.peft = PeftModel.from_pretrained(entry.model, adapter_dir, adapter_name=name)
                entry._current = (True, name)
            else:
                entry.peft.load_adapter(adapter_dir, adapter_name=name, is_trainable=False)
                # load_adapter leaves the active adapter as it was; _apply switches per pass.
                entry.peft.base_model.enable_adapter_layers()
                entry.peft.set_adapter(entry._current[1] or name, inference_mode=True)
                entry._current = (True, entry._current[1] or name)
            entry.peft.eval()
            entry.adapters[name] = adapter_dir
            self._trim_adapters(entry)

    def _trim_adapters(self, entry: LoadedModel) -> None:
        for old in list(entry.adapters)[:-1]:  # oldest first; never the one just used
            if len(entry.adapters) <= self.max_adapters:
                return
            if entry._users[old] > 0:
                continue  # a generation is running with it: it goes on a later load
            log.info(
                "unloading adapter %s from %s (at most %d per model)",
                old,
                entry.key,
                self.max_adapters,
            )
            entry.unload_adapter(old)

    def _evict(self) -> None:
        evicted = False
        while len(self._entries) > self.size:
            key, _ = self._entries.popitem(last=False)
            log.info("unloading %s (model cache holds %d)", key, self.size)
            evicted = True
        if evicted:
            # A generation still running on an evicted entry keeps its own reference and
            # finishes; the memory goes when it does.
            gc.collect()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
        gc.collect()
