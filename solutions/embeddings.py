"""Token and positional embeddings (book sections 2.7-2.8).

Token ids become vectors through a trainable lookup table. Attention alone cannot tell the
order of its inputs, so each position gets a vector too: learned, as in GPT-2, or fixed
sinusoids, as in "Attention Is All You Need".
"""

import torch
import torch.nn as nn


class GPTEmbedding(nn.Module):
    def __init__(self, vocab_size, context_length, emb_dim):
        super().__init__()
        # Creation order fixes which random draws each table gets under a seed: tokens first.
        self.tok_emb = nn.Embedding(vocab_size, emb_dim)
        self.pos_emb = nn.Embedding(context_length, emb_dim)

    def forward(self, in_idx):
        batch_size, num_tokens = in_idx.shape
        assert num_tokens <= self.pos_emb.num_embeddings, (
            f"cannot embed {num_tokens} tokens, context_length is only "
            f"{self.pos_emb.num_embeddings}")
        tok_embeds = self.tok_emb(in_idx)  # (batch, num_tokens) -> (batch, num_tokens, emb_dim)
        positions = torch.arange(num_tokens, device=in_idx.device)
        pos_embeds = self.pos_emb(positions)  # (num_tokens,) -> (num_tokens, emb_dim)
        # The same position vectors are added to every sequence of the batch (broadcast).
        return tok_embeds + pos_embeds


def sinusoidal_positions(context_length, emb_dim) -> torch.Tensor:
    assert emb_dim % 2 == 0, f"emb_dim must be even to pair each sin with a cos, got {emb_dim}"
    # float64 for the angles: pos / 10000^(2i/d) loses digits in float32 once pos is large.
    position = torch.arange(context_length, dtype=torch.float64).unsqueeze(1)  # (context_length, 1)
    two_i = torch.arange(0, emb_dim, 2, dtype=torch.float64)  # (emb_dim / 2,)
    angles = position / 10000 ** (two_i / emb_dim)  # (context_length, emb_dim / 2)
    pe = torch.zeros(context_length, emb_dim, dtype=torch.float64)
    # Each pair turns at its own speed (wavelengths 2*pi .. 10000*2*pi), so every position gets
    # a distinct pattern, and moving k positions is the same rotation wherever you start.
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe.to(torch.float32)
