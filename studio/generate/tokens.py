"""Token arithmetic (a model's context length, how many tokens a sequence generated) and the
bounded cache of tokenizers the engine keeps."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MAX_TOKENIZERS = 16  # tokenizers kept in memory (one per trained model or base)


class TokenizerCache:
    """At most `size` tokenizers by key; the least recently used is dropped first."""

    def __init__(self, size: int = MAX_TOKENIZERS):
        self.size = max(1, int(size))
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, load: Callable[[], Any]) -> Any:
        """The tokenizer for `key`, loaded with `load()` the first time."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            tok = self._items[key] = load()
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return tok


def context_length(model, tokenizer) -> int:
    """How many tokens the model reads: its position limit, else the tokenizer's."""
    config = model.config
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", 0) or 0
    return limit if 0 < limit < 1_000_000 else 2048
