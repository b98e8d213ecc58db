"""A half-written causal attention, as a learner might submit it by mistake."""
import torch


def causal_mask(num_tokens: int) -> torch.Tensor:
    return torch.triu(torch.ones(num_tokens, num_tokens, dtype=torch.bool), diagonal=1


class CausalAttention(torch.nn.Module):
    pass
