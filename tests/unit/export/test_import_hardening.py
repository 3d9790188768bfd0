"""Imported adapters: declared ranks must be the weights' ranks, adapted modules must exist in
the base with their exact features, and a zip whose declared sizes lie is refused early."""

from __future__ import annotations

import json
import struct
import zipfile

import pytest

from studio.errors import ImportRefused
from studio.export.importer import check_zip, import_adapter_zip
from studio.export.weights import check_modules, check_ranks

KEY = "base_model.model.model.layers.{}.self_attn.{}.lora_{}.weight"
TINY = {
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 100,
}


def shapes(rank: int = 4, module: str = "q_proj", out: int = 64) -> dict[str, list[int]]:
    return {KEY.format(0, module, "A"): [rank, 64], KEY.format(0, module, "B"): [out, rank]}


def test_declared_rank_must_be_the_weights_rank():
    check_ranks(shapes(4), {"r": 4})
    with pytest.raises(ImportRefused, match="says r=1000000|from 1 to 1024"):
        check_ranks(shapes(4), {"r": 1000000})
    with pytest.raises(ImportRefused, match="weights of .* have rank 4"):
        check_ranks(shapes(4), {"r": 8})
    check_ranks(shapes(16), {"r": 4, "rank_pattern": {"q_proj": 16}})
    with pytest.raises(ImportRefused, match="no lora_B"):
        check_ranks({KEY.format(0, "q_proj", "A"): [4, 64]}, {"r": 4})
    with pytest.raises(ImportRefused, match="whole number"):
        check_ranks(shapes(4), {"r": "4"})


def test_adapted_modules_must_exist_in_the_base_with_their_features():
    check_modules(shapes(4, "q_proj", 64), TINY, "tiny", "causal")
    check_modules(shapes(4, "k_proj", 32), TINY, "tiny", "causal")  # 2 kv heads of 16
    with pytest.raises(ImportRefused, match="maps 64 -> 64 features.*maps 64 -> 32"):
        check_modules(shapes(4, "k_proj", 64), TINY, "tiny", "causal")
    with pytest.raises(ImportRefused, match="does not have"):
        check_modules(shapes(4, "wq", 64), TINY, "tiny", "causal")


def _safetensors(tensors: dict[str, list[int]]) -> bytes:
    header, offset = {}, 0
    for name, shape in tensors.items():
        n = 4 * shape[0] * shape[1]
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


def test_import_refuses_a_config_rank_that_lies(tmp_path, settings, store):
    from studio.models.resolve import PACKAGED_REF

    app = store.create_app("imp")["id"]
    cfg = {
        "base_model_name_or_path": PACKAGED_REF,
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "target_modules": ["q_proj"],
        "r": 1000000,
    }
    path = tmp_path / "lie.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("adapter_config.json", json.dumps(cfg))
        zf.writestr("adapter_model.safetensors", _safetensors(shapes(4)))
    with pytest.raises(ImportRefused, match="r must be a whole number from 1 to 1024"):
        import_adapter_zip(store, settings, app, path)
    assert store.list_jobs(app_id=app) == [] and not list(settings.tmp_dir.iterdir())


def _lying_zip(path, declared: int):
    """A stored zip whose entry's declared uncompressed size is rewritten to `declared`."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("adapter_config.json", json.dumps({"r": 4}))
        zf.writestr("adapter_model.safetensors", b"x" * 1000)
    data = bytearray(path.read_bytes())
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local and central headers
        start = 0
        while (i := data.find(sig, start)) >= 0:
            name_len = struct.unpack_from("<H", data, i + (26 if sig == b"PK\x03\x04" else 28))[0]
            name_at = i + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at : name_at + name_len] == b"adapter_model.safetensors":
                struct.pack_into("<I", data, i + at, declared)
            start = i + 4
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("declared", [10, 2**31])
def test_zip_whose_declared_sizes_lie_is_refused_early(tmp_path, settings, declared):
    path = _lying_zip(tmp_path / "lies.zip", declared)
    with pytest.raises(ImportRefused, match="declared sizes are wrong"):
        check_zip(path, settings)
