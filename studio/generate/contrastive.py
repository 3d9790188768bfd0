"""Contrastive search (Su et al., 2022) as a local `custom_generate` function.

transformers 5 moved contrastive search out of the library into the Hub repo
transformers-community/contrastive-search, which runs remote code (trust_remote_code) and
needs the network. The studio does neither, so it carries this small implementation and
passes it to `model.generate(custom_generate=contrastive_search, ...)`; generate() still
prepares the logits processors (repetition penalty, no-repeat n-grams, min tokens) and the
stopping criteria (max tokens, EOS, stop strings) and hands them over.

Each step keeps the top_k candidates and picks the one maximising
    (1 - alpha) * p(candidate) - alpha * max_j cos(h_candidate, h_j)
where h are last-layer hidden states of the context. This version recomputes the sequence
without a KV cache (simple and exact, O(n^2)): fine for the short outputs of a playground.
Decoder-only models, one prompt at a time.
"""

from __future__ import annotations

from typing import Any


def contrastive_search(
    model: Any,
    input_ids: Any,
    logits_processor: Any,
    stopping_criteria: Any,
    generation_config: Any,
    synced_gpus: bool = False,
    streamer: Any = None,
    contrastive_alpha: float = 0.6,
    contrastive_top_k: int = 4,
    contrastive_streamer: Any = None,
    **model_kwargs: Any,
):
    """Greedy-like decoding with a degeneration penalty; returns the full sequence ids.

    generate() hands a custom function only the parameters `_sample` lacks, so the streamer
    comes in as `contrastive_streamer` (generate() already sent it the prompt).
    """
    streamer = streamer or contrastive_streamer
    import torch
    import torch.nn.functional as F

    if input_ids.shape[0] != 1:
        raise ValueError("contrastive search here decodes one prompt at a time")
    k = max(1, int(contrastive_top_k))
    alpha = float(contrastive_alpha)
    with torch.no_grad():
        out = model(input_ids=input_ids, output_hidden_states=True, use_cache=False)
        logits = out.logits[:, -1]
        while True:
            scores = logits_processor(input_ids, logits.float())
            probs = F.softmax(scores, dim=-1)
            top_probs, top_ids = probs.topk(min(k, probs.shape[-1]), dim=-1)  # (1, k)
            n = top_ids.shape[-1]
            candidates = torch.cat([input_ids.repeat(n, 1), top_ids.T], dim=-1)
            out = model(input_ids=candidates, output_hidden_states=True, use_cache=False)
            hidden = out.hidden_states[-1]  # (k, len, d); the context part is equal across rows
            context = F.normalize(hidden[0, :-1], dim=-1)
            cand = F.normalize(hidden[:, -1], dim=-1)
            degeneration = (cand @ context.T).max(dim=-1).values  # (k,)
            score = (1 - alpha) * top_probs[0] - alpha * degeneration
            best = int(score.argmax())
            next_token = top_ids[:, best : best + 1]  # (1, 1)
            input_ids = torch.cat([input_ids, next_token], dim=-1)
            logits = out.logits[best : best + 1, -1]
            if streamer is not None:
                streamer.put(next_token[0].cpu())
            if bool(stopping_criteria(input_ids, None).all()):
                break
    if streamer is not None:
        streamer.end()
    return input_ids
