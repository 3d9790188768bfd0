"""How examples become token rows and how likely a model finds their answers.

Shared by training (its rows, its validation accuracy) and evaluation (perplexity, label
scores), so neither imports the other:

    encode.py     Example -> input_ids / attention_mask / labels (prompt labels ignored)
    logprobs.py   summed log-probabilities of the labelled tokens, per row (torch, lazily)
    labels.py     classification: P(label | prompt) across a label set, and its metrics
    prompted.py   label scoring with each prompt run once for all its labels
    grouped.py    perplexity rows shortest first, each batch's shared prefix run once
    kvcache.py    whether a model continues from a key-value cache; the shared prefix

Nothing here imports torch at import time.
"""
