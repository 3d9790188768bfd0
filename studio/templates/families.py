"""What each model family needs in the five dicts: LoRA target modules, special tokens, licence.

Checked against the families' own config classes in transformers (the linear layers each
decoder layer has) and their tokenizers (the tokens a turn ends with, the pad token they
ship or lack). tests/integration/test_template_flows.py builds a tiny random model of each
template's architecture and trains, generates, evaluates and exports it with these dicts.
"""

from __future__ import annotations

from studio.vocab.models import TOKENIZER_DEFAULTS

ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
# Llama, Mistral, Qwen3, Gemma 3 and T5Gemma decoder layers: attention + gated MLP.
ALL_LINEAR = [*ATTENTION, "gate_proj", "up_proj", "down_proj"]
GPT_NEO = ["q_proj", "k_proj", "v_proj", "out_proj"]  # GPTNeoSelfAttention
T5 = ["q", "v"]  # T5Attention (encoder, decoder and cross attention)

# Licences as the model cards name them.
APACHE = "Apache-2.0"
MIT = "MIT"
LLAMA2 = "Llama 2 Community License"
LLAMA32 = "Llama 3.2 Community License"
GEMMA = "Gemma Terms of Use"

# Special tokens the family's tokenizer must be told (tokens it already has; the studio
# refuses a token missing from the vocabulary).
# - Llama 3.x ships no pad token; its vocabulary reserves one for fine-tuning.
# - Llama 2 and Mistral ship none either; <unk> is the usual choice (padding with </s> is
#   harmless under the studio's masks, but <unk> keeps a padded batch readable).
# - Gemma's instruction-tuned models end a turn with <end_of_turn> (their generation config
#   stops on it): the answer the studio trains ends the same way.
LLAMA3_TOKENS = {"pad_token": "<|finetune_right_pad_id|>"}
SENTENCEPIECE_LLAMA_TOKENS = {"pad_token": "<unk>"}
GEMMA_IT_TOKENS = {"eos_token": "<end_of_turn>"}


def tokenizer_dict(**tokens: str) -> dict:
    """The tokenizer dict: the studio's defaults and the family's tokens (the max length is a
    form setting: a template sets it in its hyper)."""
    return {**TOKENIZER_DEFAULTS, **tokens}
