"""bitsandbytes, imported once without reaching for the Hub, and its loading config.

    quiet_bitsandbytes()                         # before anything imports peft or bitsandbytes
    config = bnb_config({"load_in_4bit": True, "bnb_4bit_quant_type": "nf4"})
    device_map = bnb_device_map()                # {"": 0} on a CUDA machine, {"": "cpu"} else

bitsandbytes 0.47+ has a CPU backend: 4-bit (NF4/FP4) and 8-bit layers load, train through a
LoRA adapter and generate on a CPU. On a CPU with AVX512-BF16 its import asks the `kernels`
package for an optional faster CPU kernel from the Hugging Face Hub
(kernels-community/quantization-bitsandbytes). The studio never lets that import download and
run native code behind the user's back: the lookup is made local-only, so a kernel the user
fetched on purpose (`kernels download`, or a cached copy) is still used, and without one
bitsandbytes falls back to its own kernel at once. Without this, an offline machine printed
two warnings in every job's log, and a machine whose network drops packets could wait on
the Hub at import.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import warnings
from typing import Any

log = logging.getLogger("studio.models")
_LOCK = threading.Lock()
# Loggers that speak of the Hub kernel lookup while bitsandbytes imports.
_LOOKUP_LOGGERS = ("bitsandbytes", "bitsandbytes.backends.cpu.ops", "kernels")
_DTYPE_KEYS = ("bnb_4bit_compute_dtype", "bnb_4bit_quant_storage")


@contextlib.contextmanager
def _hub_local_only():
    """huggingface_hub's offline switch on for the length of the block (read at call time
    by the kernels package), with the lookup's warnings held back."""
    try:
        from huggingface_hub import constants
    except ImportError:  # no Hub client: nothing could be fetched anyway
        yield
        return
    saved = constants.HF_HUB_OFFLINE
    levels = {name: logging.getLogger(name).level for name in _LOOKUP_LOGGERS}
    constants.HF_HUB_OFFLINE = True
    for name in _LOOKUP_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def quiet_bitsandbytes() -> bool:
    """Import bitsandbytes (if installed) with its Hub kernel lookup local-only; True when
    it is importable. Safe to call often and from several threads."""
    # 8-bit layers cast fp32 inputs to fp16 by design, and say so on every forward pass.
    warnings.filterwarnings("ignore", message=r"MatMul8bitLt: inputs will be cast")
    if "bitsandbytes" in sys.modules:
        return True
    with _LOCK:
        if "bitsandbytes" in sys.modules:
            return True
        with _hub_local_only():
            try:
                import bitsandbytes  # noqa: F401
            except ImportError:
                return False
            except Exception:  # a broken install must not stop LoRA runs, which need none
                log.warning(
                    "bitsandbytes failed to import; 4-bit/8-bit loading is off", exc_info=True
                )
                return False
    log.debug("bitsandbytes imported (Hub kernel lookup local-only)")
    return True


def _torch_dtype(name: Any):
    import torch

    table = {
        "float32": torch.float32,
        "bfloat16": torch.bfloat16,
        "float16": torch.float16,
        "uint8": torch.uint8,
    }
    return table.get(name, name) if isinstance(name, str) else name


def bnb_config(quant_cfg: dict[str, Any]):
    """transformers' BitsAndBytesConfig for a quantization dict (dtype names resolved)."""
    quiet_bitsandbytes()
    from transformers import BitsAndBytesConfig

    kwargs = dict(quant_cfg)
    for key in _DTYPE_KEYS:
        if key in kwargs:
            kwargs[key] = _torch_dtype(kwargs[key])
    return BitsAndBytesConfig(**kwargs)


def bnb_device_map() -> dict[str, Any]:
    """Where a quantized model's layers go: all on the first GPU, or all on the CPU (the
    CPU backend of bitsandbytes; never split, so no layer is offloaded to disk)."""
    import torch

    return {"": 0} if torch.cuda.is_available() else {"": "cpu"}
