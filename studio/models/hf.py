"""Thread-safe first import of transformers and peft for the server process.

    from studio.models.hf import hf_ready
    hf_ready()                      # then `from transformers import X` is safe in any thread

transformers exposes its classes through a lazy module whose first attribute lookups are not
thread-safe: two page events importing at once (the prompt preview loads a tokenizer while
Generate loads a model) can fail with "cannot import name 'AutoModelForCausalLM' from
'transformers'". hf_ready() resolves every name the server uses once, under a lock; it is
called by every in-server entry point that touches transformers (training and evaluation run
in their own single-threaded processes and need none of this).
"""

from __future__ import annotations

import importlib
import threading

from studio.models.bnb import quiet_bitsandbytes

_LOCK = threading.Lock()
_READY = False
# Every transformers name the server process uses, resolved up front.
TRANSFORMERS_NAMES = (
    "AutoConfig",
    "AutoModelForCausalLM",
    "AutoModelForSeq2SeqLM",
    "AutoTokenizer",
    "BitsAndBytesConfig",
    "GenerationConfig",
    "LlamaConfig",
    "LlamaForCausalLM",
    "PreTrainedModel",
    "TextIteratorStreamer",
    "TrainingArguments",
)
SUBMODULES = ("transformers.generation.logits_process", "transformers.utils.logging")


def hf_ready() -> None:
    """Import torch, transformers and peft and resolve their lazy names, once per process."""
    global _READY
    if _READY:
        return
    with _LOCK:
        if _READY:
            return
        quiet_bitsandbytes()  # peft may import it: first, without its Hub kernel lookup
        # peft before transformers: importing peft replaces the lazy transformers module in
        # sys.modules, and names resolved on the old one would be resolved for nothing.
        import peft
        import torch  # noqa: F401
        import transformers

        for name in TRANSFORMERS_NAMES:
            getattr(transformers, name)
        for module in SUBMODULES:
            importlib.import_module(module)
        for name in ("LoraConfig", "PeftModel", "get_peft_model"):
            getattr(peft, name)
        _READY = True
