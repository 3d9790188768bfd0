"""Tiny random-weight models of the templates' architectures, built locally for tests.

As transformers' own tests do with their "tiny-random" models: each template's base
architecture from its config class, scaled down (2 layers, hidden 64), with the family's
tokenizer: the packaged SmolLM2 one where the family uses it, else a small one trained here
that carries the family's special tokens, tokenizer kind and chat template.
"""
