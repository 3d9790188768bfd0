"""Write a merged Llama-architecture model folder as one GGUF file (llama.cpp, Ollama, LM Studio).

    write_gguf(merged_dir, out_path, "Q8_0")

Types: F16, Q8_0 and Q4_1. Q4_K_M is what llama.cpp's own `llama-quantize` tool makes; the
`gguf` Python package (0.19) can write Q4_0/Q4_1/Q5_x/Q8_0 blocks but not the K-quants, so
Q4_1 is the nearest 4-bit type it writes (the packaged SmolLM2 GGUF is Q4_1 too). As in
llama.cpp's converter, norms stay F32, the token embedding of a 4-bit file is Q8_0, and a
matrix whose rows do not split into 32-value blocks is written F16.
The tokenizer must be a byte-level BPE one (SmolLM2, GPT-2 style), the GGUF "gpt2" kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from studio.errors import StudioError

GGUF_TYPES = ("F16", "Q8_0", "Q4_1")
# Architectures with the Llama tensor layout (llama.cpp reads Mistral as "llama").
LLAMA_LIKE = ("llama", "mistral")


class GGUFRefused(StudioError):
    """This model cannot be written as GGUF; the message says why and what to do instead."""


def check_gguf_support(model_dir: Path) -> dict:
    """The model's config.json if it can be written as GGUF, else GGUFRefused with a reason."""
    config = json.loads((Path(model_dir) / "config.json").read_text())
    arch = config.get("model_type", "?")
    if arch not in LLAMA_LIKE:
        raise GGUFRefused(
            f"GGUF export supports Llama-architecture models (SmolLM2, Llama, Mistral); this "
            f"model is '{arch}'. Download the merged model instead and convert it with "
            "llama.cpp's convert_hf_to_gguf.py, which knows more architectures."
        )
    tok = json.loads((Path(model_dir) / "tokenizer.json").read_text()).get("model", {})
    if tok.get("type") != "BPE" or tok.get("byte_fallback"):
        raise GGUFRefused(
            "GGUF export writes byte-level BPE tokenizers (SmolLM2 and GPT-2 style); this "
            "model's tokenizer is a SentencePiece-style one. Download the merged model and "
            "convert it with llama.cpp's convert_hf_to_gguf.py."
        )
    return config


def _permute(w: np.ndarray, heads: int) -> np.ndarray:
    # llama.cpp's rotary layout interleaves the two halves of each head (as its converter).
    return (
        w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
    )


def _gguf_name(name: str) -> str | None:
    parts = {
        "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
        "input_layernorm": "attn_norm",
        "post_attention_layernorm": "ffn_norm",
    }
    top = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    if name in top:
        return top[name]
    if name.startswith("model.layers.") and name.endswith(".weight"):
        layer, rest = name[len("model.layers.") :].split(".", 1)
        key = rest[: -len(".weight")]
        return f"blk.{layer}.{parts[key]}.weight" if key in parts else None
    return None


def _tensor_type(gguf, name: str, data: np.ndarray, qtype: str):
    if data.ndim == 1:
        return gguf.GGMLQuantizationType.F32
    if qtype == "F16" or data.shape[-1] % 32:
        return gguf.GGMLQuantizationType.F16
    if qtype == "Q4_1" and name in ("token_embd.weight", "output.weight"):
        return gguf.GGMLQuantizationType.Q8_0  # as llama.cpp: the embeddings stay 8-bit
    return getattr(gguf.GGMLQuantizationType, qtype)


def _add_tokenizer(writer, model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    spec = json.loads((model_dir / "tokenizer.json").read_text())
    vocab: dict[str, int] = dict(spec["model"]["vocab"])
    added = {t["content"]: t for t in spec.get("added_tokens", [])}
    for content, t in added.items():
        vocab.setdefault(content, t["id"])
    size = max(max(vocab.values()) + 1, len(tok))
    tokens, types = [f"[PAD{i}]" for i in range(size)], [5] * size  # 5 = unused
    for text, i in vocab.items():
        tokens[i] = text
        special = added.get(text, {}).get("special")
        types[i] = 3 if special else (4 if text in added else 1)  # control / user / normal
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"].get("merges", [])]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(_pre_tokenizer(vocab, size))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    for setter, value in (
        (writer.add_bos_token_id, tok.bos_token_id),
        (writer.add_eos_token_id, tok.eos_token_id),
        (writer.add_unk_token_id, tok.unk_token_id),
        (writer.add_pad_token_id, tok.pad_token_id),
    ):
        if value is not None:
            setter(int(value))
    ids = tok("a")["input_ids"]
    writer.add_add_bos_token(bool(ids) and ids[0] == tok.bos_token_id)
    writer.add_add_space_prefix(False)
    if tok.chat_template:
        writer.add_chat_template(tok.chat_template)


def _pre_tokenizer(vocab: dict[str, int], size: int) -> str:
    """llama.cpp picks its pre-tokenizer (how text is split before BPE) by name: SmolLM2 and
    Llama 3 have their own; other byte-level BPE tokenizers split as GPT-2 does."""
    if "<|im_start|>" in vocab and size == 49152:
        return "smollm"
    if "<|begin_of_text|>" in vocab:
        return "llama-bpe"
    return "gpt2"


def write_gguf(model_dir: Path, out_path: Path, qtype: str, name: str = "") -> Path:
    """Write the full model in `model_dir` (config, safetensors, tokenizer) as GGUF `qtype`."""
    import gguf
    from safetensors import safe_open

    if qtype not in GGUF_TYPES:
        raise GGUFRefused(
            f"GGUF type {qtype!r} is not offered; choose one of {', '.join(GGUF_TYPES)}."
        )
    model_dir = Path(model_dir)
    config = check_gguf_support(model_dir)
    heads, kv_heads = (
        config["num_attention_heads"],
        config.get("num_key_value_heads") or config["num_attention_heads"],
    )
    hidden = config["hidden_size"]
    head_dim = config.get("head_dim") or hidden // heads
    writer = gguf.GGUFWriter(str(out_path), "llama")
    writer.add_name(name or model_dir.name)
    writer.add_context_length(config.get("max_position_embeddings", 2048))
    writer.add_embedding_length(hidden)
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    rope = config.get("rope_theta") or (config.get("rope_parameters") or {}).get("rope_theta")
    writer.add_rope_freq_base(float(rope or 10000.0))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-5)))
    writer.add_vocab_size(config["vocab_size"])
    file_type = {
        "F16": gguf.LlamaFileType.MOSTLY_F16,
        "Q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
        "Q4_1": gguf.LlamaFileType.MOSTLY_Q4_1,
    }[qtype]
    writer.add_file_type(file_type)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _add_tokenizer(writer, model_dir)
    for path in sorted(model_dir.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():  # noqa: SIM118 (safe_open is not a dict)
                target = _gguf_name(key)
                if target is None:
                    continue
                if target == "output.weight" and config.get("tie_word_embeddings"):
                    continue  # llama.cpp reuses token_embd for tied heads
                data = f.get_tensor(key).float().numpy()
                if target.endswith("attn_q.weight"):
                    data = _permute(data, heads)
                elif target.endswith("attn_k.weight"):
                    data = _permute(data, kv_heads)
                kind = _tensor_type(gguf, target, data, qtype)
                if kind == gguf.GGMLQuantizationType.F32:
                    writer.add_tensor(target, data.astype(np.float32))
                elif kind == gguf.GGMLQuantizationType.F16:
                    writer.add_tensor(target, data.astype(np.float16))
                else:
                    writer.add_tensor(target, gguf.quants.quantize(data, kind), raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out_path
