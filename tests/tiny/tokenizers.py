"""Small tokenizers that behave like each family's: its special tokens, whether it adds a
BOS (or, for T5, an EOS), byte-level BPE (GPT-2, Llama 3, Qwen) or SentencePiece-style BPE
with byte fallback (Llama 2, Mistral, Gemma), and a chat template with the family's turn
markers for the instruction-tuned ones. Trained in milliseconds on a few hundred words.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path

# Turn markers as each family's chat template writes them (written here, not copied).
CHATML = (
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + "
    "'<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3_CHAT = (
    "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + "
    "'<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}"
)
GEMMA_CHAT = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "{{ '<start_of_turn>' + role + '\\n' + m['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)


@dataclass(frozen=True)
class TokenizerFamily:
    """What a family's tokenizer is made of."""

    name: str
    kind: str  # "byte_level" | "sentencepiece" (Metaspace BPE)
    tokens: dict[str, str]  # bos_token / eos_token / pad_token / unk_token, in id order
    extra: tuple[str, ...] = ()  # other special tokens (turn markers, image tokens)
    prefix: str = ""  # the special token added before every text ("" = none)
    suffix: str = ""  # ... after every text (T5 appends </s>)
    byte_fallback: bool = False
    chat_template: str = ""
    words: tuple[str, ...] = field(default=())


FAMILIES = {
    "gpt2": TokenizerFamily(
        "gpt2", "byte_level", {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}
    ),
    "llama3": TokenizerFamily(
        "llama3",
        "byte_level",
        {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
        (
            "<|end_of_text|>",
            "<|start_header_id|>",
            "<|end_header_id|>",
            "<|finetune_right_pad_id|>",
        ),
        prefix="<|begin_of_text|>",
        chat_template=LLAMA3_CHAT,
    ),
    "qwen": TokenizerFamily(
        "qwen",
        "byte_level",
        {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
        ("<|im_start|>",),
        chat_template=CHATML,
    ),
    "llama2": TokenizerFamily(
        "llama2",
        "sentencepiece",
        {"unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>"},
        prefix="<s>",
        byte_fallback=True,
    ),
    "gemma": TokenizerFamily(
        "gemma",
        "sentencepiece",
        {"pad_token": "<pad>", "eos_token": "<eos>", "bos_token": "<bos>", "unk_token": "<unk>"},
        (
            "<start_of_turn>",
            "<end_of_turn>",
            "<start_of_image>",
            "<end_of_image>",
            "<image_soft_token>",
        ),
        prefix="<bos>",
        byte_fallback=True,
        chat_template=GEMMA_CHAT,
    ),
    "t5": TokenizerFamily(
        "t5",
        "sentencepiece",
        {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"},
        suffix="</s>",
    ),
}


def _corpus() -> list[str]:
    from tests.unit.evaluate.trained import SENTIMENT
    from tests.unit.train.runs import sentiment_examples

    lines = [text for text, _ in SENTIMENT]
    lines += [f"{e.instruction} {e.input} {e.output}" for e in sentiment_examples(64)]
    lines += ["### Instruction: ### Human: ### Assistant: ### Input: ### Response:"]
    lines += ["system user assistant model positive negative neutral hello world"]
    return lines * 4 + [string.printable]


def build_tokenizer(family: str, out: Path) -> Path:
    """Train `family`'s tiny tokenizer and save it (tokenizer.json + config) into `out`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    fam = FAMILIES[family]
    specials = list(dict.fromkeys([*fam.tokens.values(), *fam.extra]))
    if fam.kind == "byte_level":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:
        tok = Tokenizer(models.BPE(unk_token=fam.tokens.get("unk_token"), fuse_unk=True))
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Sequence(
            [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
            + [decoders.Strip(" ", 1, 0)]
        )
        alphabet = list(string.printable.strip())
    trainer = trainers.BpeTrainer(
        vocab_size=len(specials) + 300,
        special_tokens=specials,
        initial_alphabet=alphabet,
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer)
    if fam.byte_fallback:
        tok.model = _with_byte_tokens(tok, fam.tokens.get("unk_token"))
    if fam.prefix or fam.suffix:
        single = " ".join(x for x in (fam.prefix, "$A", fam.suffix) if x)
        pair = " ".join(x for x in (fam.prefix, "$A", fam.suffix, "$B", fam.suffix) if x)
        marks = [t for t in (fam.prefix, fam.suffix) if t]
        tok.post_processor = processors.TemplateProcessing(
            single=single, pair=pair, special_tokens=[(t, tok.token_to_id(t)) for t in marks]
        )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        additional_special_tokens=list(fam.extra),
        **fam.tokens,
    )
    if fam.chat_template:
        wrapped.chat_template = fam.chat_template
    wrapped.save_pretrained(out)
    return out


def _with_byte_tokens(tok, unk: str | None):
    """The trained BPE with SentencePiece's 256 <0xNN> byte tokens added as plain vocabulary
    (what it falls back to for a character it has no piece for)."""
    import json

    from tokenizers import models

    spec = json.loads(tok.to_str())["model"]
    vocab = dict(spec["vocab"])
    for i in range(256):
        vocab.setdefault(f"<0x{i:02X}>", len(vocab))
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in spec["merges"]]
    return models.BPE(vocab, merges, unk_token=unk, byte_fallback=True, fuse_unk=True)
