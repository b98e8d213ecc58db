"""Decoding strategies: temperature and top-k (book section 5.3).

Greedy decoding always picks the most likely token, so the same prompt always gives the same
text. Sampling from the softmax adds variety; temperature sharpens or flattens the
distribution, and top-k keeps the sampler away from the long tail of unlikely tokens.
"""

import torch


def softmax_with_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    # Dividing the logits (not the probabilities) by T > 1 flattens the distribution,
    # T < 1 sharpens it towards the argmax.
    scaled_logits = logits / temperature
    return torch.softmax(scaled_logits, dim=-1)


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits of the last dim (ties with the k-th included); others -inf."""
    top_logits, _ = torch.topk(logits, k)  # (..., vocab_size) -> (..., k), sorted descending
    min_val = top_logits[..., -1:]  # (..., k) -> (..., 1): the k-th largest logit
    # -inf becomes probability 0 after softmax.
    return torch.where(logits < min_val, torch.tensor(float("-inf"), device=logits.device), logits)


def generate(model, idx: torch.Tensor, max_new_tokens: int, context_size: int,
             temperature: float = 0.0, top_k: int | None = None,
             eos_id: int | None = None) -> torch.Tensor:
    """Like generate_text_simple, with top-k filtering, sampling when temperature > 0 and an
    early stop when the new token is eos_id (for a batch: when every sequence produced it)."""
    for _ in range(max_new_tokens):
        idx_cond = idx[:, -context_size:]
        with torch.no_grad():
            logits = model(idx_cond)  # (b, num_tokens) -> (b, num_tokens, vocab_size)
        logits = logits[:, -1, :]  # (b, num_tokens, vocab_size) -> (b, vocab_size)

        if top_k is not None:
            logits = top_k_filter(logits, top_k)

        if temperature > 0.0:
            probas = softmax_with_temperature(logits, temperature)
            idx_next = torch.multinomial(probas, num_samples=1)  # (b, vocab_size) -> (b, 1)
        else:
            idx_next = torch.argmax(logits, dim=-1, keepdim=True)  # (b, vocab_size) -> (b, 1)

        if eos_id is not None and bool((idx_next == eos_id).all()):
            break  # the end-of-text token itself is not returned
        idx = torch.cat((idx, idx_next), dim=1)  # (b, num_tokens) -> (b, num_tokens + 1)
    return idx
