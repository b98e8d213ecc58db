"""Llama's parts: RMSNorm, SwiGLU and rotary embeddings (the book's bonus material, from GPT to Llama).

Llama keeps GPT's block and swaps three of its parts. RMSNorm rescales each token's embedding by
its root mean square (no centring, no shift). The feed forward is SwiGLU: a SiLU-gated product of
two projections, then a third. Positions are no longer added to the token embeddings: rotary
position embeddings (RoPE) rotate each query and key by an angle proportional to its position, so
that a query-key dot product depends only on how far apart the two tokens are.
"""

import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    def __init__(self, emb_dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.emb_dim = emb_dim
        self.weight = nn.Parameter(torch.ones(emb_dim))  # a scale only: RMSNorm has no shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        means = x.pow(2).mean(dim=-1, keepdim=True)  # (..., emb_dim) -> (..., 1): the mean square of each row
        x_normed = x * torch.rsqrt(means + self.eps)
        return x_normed * self.weight


class SiLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class FeedForward(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.fc1 = nn.Linear(cfg["emb_dim"], cfg["hidden_dim"], dtype=cfg["dtype"], bias=False)
        self.fc2 = nn.Linear(cfg["emb_dim"], cfg["hidden_dim"], dtype=cfg["dtype"], bias=False)
        self.fc3 = nn.Linear(cfg["hidden_dim"], cfg["emb_dim"], dtype=cfg["dtype"], bias=False)
        self.silu = SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_fc1 = self.fc1(x)  # (b, num_tokens, emb_dim) -> (b, num_tokens, hidden_dim)
        x_fc2 = self.fc2(x)  # (b, num_tokens, emb_dim) -> (b, num_tokens, hidden_dim)
        x = self.silu(x_fc1) * x_fc2  # the gate: SiLU of one projection scales the other
        return self.fc3(x)  # (b, num_tokens, hidden_dim) -> (b, num_tokens, emb_dim)


def compute_rope_params(head_dim: int, theta_base: float = 10_000, context_length: int = 4096):
    assert head_dim % 2 == 0, f"head_dim ({head_dim}) must be even: RoPE rotates pairs of features"
    # Pair i rotates at frequency theta_base^(-2i / head_dim): fast for the first pairs, slow for the last.
    inv_freq = 1.0 / theta_base ** (torch.arange(0, head_dim, 2).float() / head_dim)  # (head_dim // 2,)
    positions = torch.arange(context_length).float()
    angles = positions[:, None] * inv_freq[None, :]  # (context_length, head_dim // 2)
    # Rotate-half layout: feature i and feature i + head_dim // 2 form a pair, so both halves share the angles.
    angles = torch.cat([angles, angles], dim=1)  # -> (context_length, head_dim)
    return torch.cos(angles), torch.sin(angles)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    batch_size, num_heads, seq_len, head_dim = x.shape
    assert head_dim % 2 == 0, f"head_dim ({head_dim}) must be even: RoPE rotates pairs of features"
    x1 = x[..., : head_dim // 2]  # the first feature of each pair
    x2 = x[..., head_dim // 2 :]  # the second
    cos = cos[:seq_len, :][None, None, :, :]  # (context_length, head_dim) -> (1, 1, seq_len, head_dim)
    sin = sin[:seq_len, :][None, None, :, :]
    # Each pair (a, b) becomes (a cos - b sin, b cos + a sin): a rotation by the position's angle.
    rotated = torch.cat((-x2, x1), dim=-1)
    x_rotated = (x * cos) + (rotated * sin)
    return x_rotated.to(dtype=x.dtype)
