"""Token and positional embeddings (book sections 2.7-2.8).

A network needs vectors, not ids. An embedding layer is a trainable lookup table: row k is the
vector of token id k. Self-attention cannot tell the order of its inputs, so GPT adds a second
table with one vector per position. You build GPTEmbedding, GPT-2's learned token + position
embedding, and the fixed sinusoidal positions of "Attention Is All You Need" for comparison.

Check your work: kata check embeddings   (or make check TOPIC=embeddings)
"""

import torch
import torch.nn as nn


class GPTEmbedding(nn.Module):
    def __init__(self, vocab_size, context_length, emb_dim):
        """Task 1. Create the two lookup tables, in this order (the order fixes which random
        numbers each table gets under torch.manual_seed):

        Attributes to create:
          tok_emb: nn.Embedding(vocab_size, emb_dim), one row per token id
          pos_emb: nn.Embedding(context_length, emb_dim), one row per position

        >>> _ = torch.manual_seed(123)
        >>> embedding = GPTEmbedding(vocab_size=6, context_length=4, emb_dim=3)
        >>> embedding.tok_emb.weight.shape, embedding.pos_emb.weight.shape
        (torch.Size([6, 3]), torch.Size([4, 3]))
        >>> embedding.tok_emb.weight[:2]
        tensor([[ 0.3374, -0.1778, -0.1690],
                [ 0.9178,  1.5810,  1.3010]], grad_fn=<SliceBackward0>)
        """
        raise NotImplementedError("embeddings task 1: GPTEmbedding.__init__")

    def forward(self, in_idx):
        """Task 2. Token ids to input embeddings: tok_emb(in_idx) + pos_emb(positions).

        in_idx: (batch, num_tokens) token ids, num_tokens <= context_length.
        positions: torch.arange(num_tokens), i.e. 0, 1, ..., num_tokens - 1, on in_idx's device.
        The (num_tokens, emb_dim) position vectors broadcast over the batch: every sequence
        gets the same position vectors.

        Returns (batch, num_tokens, emb_dim):
          out[b, t] = tok_emb.weight[in_idx[b, t]] + pos_emb.weight[t]

        >>> _ = torch.manual_seed(123)
        >>> embedding = GPTEmbedding(vocab_size=6, context_length=4, emb_dim=3)
        >>> out = embedding(torch.tensor([[2, 3], [5, 1]]))
        >>> out.shape
        torch.Size([2, 2, 3])
        >>> out[1, 0]  # tok_emb.weight[5] + pos_emb.weight[0]
        tensor([-3.4707,  0.4492, -1.0969], grad_fn=<SelectBackward0>)
        """
        raise NotImplementedError("embeddings task 2: GPTEmbedding.forward")


def sinusoidal_positions(context_length, emb_dim) -> torch.Tensor:
    """Task 3. The fixed positional encodings of "Attention Is All You Need" (Vaswani et al.).

    For position pos = 0 .. context_length - 1 and pair index i = 0 .. emb_dim / 2 - 1:
      PE[pos, 2i]     = sin(pos / 10000 ** (2i / emb_dim))
      PE[pos, 2i + 1] = cos(pos / 10000 ** (2i / emb_dim))
    Even columns hold sines, odd columns cosines, interleaved. Assert that emb_dim is even,
    with a message saying so.

    Returns a float32 tensor (context_length, emb_dim). Computing the angles in float64 and
    casting at the end keeps large positions accurate.

    >>> sinusoidal_positions(4, 6)
    tensor([[ 0.0000,  1.0000,  0.0000,  1.0000,  0.0000,  1.0000],
            [ 0.8415,  0.5403,  0.0464,  0.9989,  0.0022,  1.0000],
            [ 0.9093, -0.4161,  0.0927,  0.9957,  0.0043,  1.0000],
            [ 0.1411, -0.9900,  0.1388,  0.9903,  0.0065,  1.0000]])
    """
    raise NotImplementedError("embeddings task 3: sinusoidal_positions")
