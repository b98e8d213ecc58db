"""Multi-head attention (book section 3.6).

Several attention heads read the same sequence side by side, each free to attend to different
things. First you stack CausalAttention heads and concatenate their outputs
(MultiHeadAttentionWrapper). Then you do the same work with one set of projections split into
num_heads slices of head_dim = d_out // num_heads, all heads in one batched matmul, mixed at
the end by an output projection (MultiHeadAttention, the module GPT uses).
PyTorch's built-in multi-head attention module and its fused attention function are not allowed here.

Check your work: kata check multihead_attention   (or make check TOPIC=multihead_attention)
"""

import torch
import torch.nn as nn

from .causal_attention import CausalAttention, causal_mask


class MultiHeadAttentionWrapper(nn.Module):
    """Task 1. num_heads independent CausalAttention heads, outputs side by side.

    With a batch of two copies of the book's "Your journey starts with one step" embeddings:

    >>> inputs = torch.tensor(
    ...     [[0.43, 0.15, 0.89],  # Your     (x^1)
    ...      [0.55, 0.87, 0.66],  # journey  (x^2)
    ...      [0.57, 0.85, 0.64],  # starts   (x^3)
    ...      [0.22, 0.58, 0.33],  # with     (x^4)
    ...      [0.77, 0.25, 0.10],  # one      (x^5)
    ...      [0.05, 0.80, 0.55]]  # step     (x^6)
    ... )
    >>> batch = torch.stack((inputs, inputs), dim=0)
    >>> _ = torch.manual_seed(123)
    >>> mha = MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2)
    >>> context_vecs = mha(batch)
    >>> context_vecs.shape
    torch.Size([2, 6, 4])
    >>> context_vecs.detach()[0, 0]
    tensor([-0.4519,  0.2216,  0.4772,  0.1063])
    """

    def __init__(
        self, d_in: int, d_out: int, context_length: int, dropout: float, num_heads: int, qkv_bias: bool = False
    ):
        """Task 1. Create heads: an nn.ModuleList of num_heads
        CausalAttention(d_in, d_out, context_length, dropout, qkv_bias), each with its own weights.
        """
        raise NotImplementedError("multihead_attention task 1: MultiHeadAttentionWrapper.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 1. Run every head on x and concatenate the outputs along the feature (last) dim.

        Shapes: x (b, num_tokens, d_in); each head (b, num_tokens, d_out);
        returns (b, num_tokens, num_heads * d_out), head 0's features first.
        """
        raise NotImplementedError("multihead_attention task 1: MultiHeadAttentionWrapper.forward")


class MultiHeadAttention(nn.Module):
    """Task 2. Multi-head causal attention with shared projections split into heads.

    >>> inputs = torch.tensor(
    ...     [[0.43, 0.15, 0.89],  # Your     (x^1)
    ...      [0.55, 0.87, 0.66],  # journey  (x^2)
    ...      [0.57, 0.85, 0.64],  # starts   (x^3)
    ...      [0.22, 0.58, 0.33],  # with     (x^4)
    ...      [0.77, 0.25, 0.10],  # one      (x^5)
    ...      [0.05, 0.80, 0.55]]  # step     (x^6)
    ... )
    >>> batch = torch.stack((inputs, inputs), dim=0)
    >>> _ = torch.manual_seed(123)
    >>> mha = MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)
    >>> context_vecs = mha(batch)
    >>> context_vecs.shape
    torch.Size([2, 6, 2])
    >>> context_vecs.detach()[0, 0]
    tensor([0.3190, 0.4858])
    """

    def __init__(
        self, d_in: int, d_out: int, context_length: int, dropout: float, num_heads: int, qkv_bias: bool = False
    ):
        """Task 2. First assert that d_out % num_heads == 0, with a message giving both numbers.
        Then create, in this order:

        - d_out, num_heads, and head_dim = d_out // num_heads (ints)
        - W_query, W_key, W_value: nn.Linear(d_in, d_out, bias=qkv_bias) each, in that order
        - out_proj: nn.Linear(d_out, d_out) (with its bias), to mix the heads' outputs
        - dropout: nn.Dropout(dropout)
        - a buffer "mask" (self.register_buffer): the float 0/1 causal mask of
          CausalAttention, (context_length, context_length)
        """
        raise NotImplementedError("multihead_attention task 2: MultiHeadAttention.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 2. Project once, split the features into heads, attend per head, merge, project.

        1. queries, keys, values = W_query(x), W_key(x), W_value(x): (b, num_tokens, d_out)
        2. split the last dim into heads: view to (b, num_tokens, num_heads, head_dim), then
           transpose(1, 2) to (b, num_heads, num_tokens, head_dim)
        3. attn_scores = queries @ keys^T over the last two dims: (b, num_heads, num_tokens, num_tokens);
           -inf where the mask (cut to num_tokens x num_tokens) is set
        4. attn_weights = softmax(attn_scores / sqrt(head_dim)) over the last dim, then dropout
        5. context_vec = attn_weights @ values: (b, num_heads, num_tokens, head_dim); transpose back
           to (b, num_tokens, num_heads, head_dim), .contiguous().view(b, num_tokens, d_out)
        6. return out_proj(context_vec): (b, num_tokens, d_out)

        Head h works on features h*head_dim ... (h+1)*head_dim - 1 of every token.
        See the class docstring for the book's numbers.
        """
        raise NotImplementedError("multihead_attention task 2: MultiHeadAttention.forward")
