"""Self-attention with trainable weights (book section 3.4).

Three learned projections turn each embedding into a query, a key and a value. The scores are
query-key dot products, scaled by sqrt(d_k) so that softmax does not saturate as d_k grows,
and each context vector is the softmax-weighted sum of the values. You write it twice: with raw
nn.Parameter matrices (SelfAttention_v1) and with nn.Linear layers (SelfAttention_v2), then
prove the two compute the same thing by copying v2's weights into v1.

Check your work: kata check qkv_attention   (or make check TOPIC=qkv_attention)
"""

import torch
import torch.nn as nn


class SelfAttention_v1(nn.Module):
    """Task 1. Scaled dot-product self-attention with raw weight matrices.

    The examples use the book's embeddings of "Your journey starts with one step":

    >>> inputs = torch.tensor(
    ...     [[0.43, 0.15, 0.89],  # Your     (x^1)
    ...      [0.55, 0.87, 0.66],  # journey  (x^2)
    ...      [0.57, 0.85, 0.64],  # starts   (x^3)
    ...      [0.22, 0.58, 0.33],  # with     (x^4)
    ...      [0.77, 0.25, 0.10],  # one      (x^5)
    ...      [0.05, 0.80, 0.55]]  # step     (x^6)
    ... )
    >>> _ = torch.manual_seed(123)
    >>> sa_v1 = SelfAttention_v1(3, 2)
    >>> sa_v1(inputs).shape
    torch.Size([6, 2])
    >>> sa_v1(inputs).detach()[0]
    tensor([0.2996, 0.8053])
    """

    def __init__(self, d_in: int, d_out: int):
        """Task 1. Create, in this order (the order decides which random numbers each gets):

        - W_query: nn.Parameter(torch.rand(d_in, d_out))
        - W_key:   nn.Parameter(torch.rand(d_in, d_out))
        - W_value: nn.Parameter(torch.rand(d_in, d_out))
        """
        raise NotImplementedError("qkv_attention task 1: SelfAttention_v1.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 1. Context vectors for one sequence.

        queries = x @ W_query, keys = x @ W_key, values = x @ W_value
        attn_scores = queries @ keys^T
        attn_weights = softmax(attn_scores / sqrt(d_k)) over the last dim, d_k = keys.shape[-1]
        context_vec = attn_weights @ values

        Shapes: x (num_tokens, d_in); queries, keys, values (num_tokens, d_out);
        attn_scores, attn_weights (num_tokens, num_tokens); returns (num_tokens, d_out).
        See the class docstring for the book's numbers.
        """
        raise NotImplementedError("qkv_attention task 1: SelfAttention_v1.forward")


class SelfAttention_v2(nn.Module):
    """Task 2. The same attention, with nn.Linear layers for the projections.

    >>> inputs = torch.tensor(
    ...     [[0.43, 0.15, 0.89],  # Your     (x^1)
    ...      [0.55, 0.87, 0.66],  # journey  (x^2)
    ...      [0.57, 0.85, 0.64],  # starts   (x^3)
    ...      [0.22, 0.58, 0.33],  # with     (x^4)
    ...      [0.77, 0.25, 0.10],  # one      (x^5)
    ...      [0.05, 0.80, 0.55]]  # step     (x^6)
    ... )
    >>> _ = torch.manual_seed(789)
    >>> sa_v2 = SelfAttention_v2(3, 2)
    >>> sa_v2(inputs).detach()[0]
    tensor([-0.0739,  0.0713])
    """

    def __init__(self, d_in: int, d_out: int, qkv_bias: bool = False):
        """Task 2. Create, in this order:

        - W_query: nn.Linear(d_in, d_out, bias=qkv_bias)
        - W_key:   nn.Linear(d_in, d_out, bias=qkv_bias)
        - W_value: nn.Linear(d_in, d_out, bias=qkv_bias)
        """
        raise NotImplementedError("qkv_attention task 2: SelfAttention_v2.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 2. The same maths as SelfAttention_v1.forward, projecting with the layers:

        queries = W_query(x), keys = W_key(x), values = W_value(x)
        context_vec = softmax(queries @ keys^T / sqrt(d_k), over the last dim) @ values

        Shapes: x (num_tokens, d_in) -> (num_tokens, d_out).
        See the class docstring for the book's numbers.
        """
        raise NotImplementedError("qkv_attention task 2: SelfAttention_v2.forward")


def transfer_weights(sa_v2: "SelfAttention_v2", sa_v1: "SelfAttention_v1") -> "SelfAttention_v1":
    """Task 3. Copy sa_v2's three weight matrices into sa_v1 (in place) and return sa_v1.

    Afterwards sa_v1(x) equals sa_v2(x). nn.Linear(d_in, d_out) stores its weight as
    (d_out, d_in) and computes x @ weight^T, while v1's matrices are (d_in, d_out).
    sa_v2 must have no bias (qkv_bias=False), since v1 has none.

    >>> inputs = torch.tensor(
    ...     [[0.43, 0.15, 0.89],  # Your     (x^1)
    ...      [0.55, 0.87, 0.66],  # journey  (x^2)
    ...      [0.57, 0.85, 0.64],  # starts   (x^3)
    ...      [0.22, 0.58, 0.33],  # with     (x^4)
    ...      [0.77, 0.25, 0.10],  # one      (x^5)
    ...      [0.05, 0.80, 0.55]]  # step     (x^6)
    ... )
    >>> _ = torch.manual_seed(789)
    >>> sa_v2 = SelfAttention_v2(3, 2)
    >>> sa_v1 = transfer_weights(sa_v2, SelfAttention_v1(3, 2))
    >>> sa_v1(inputs).detach()[0]
    tensor([-0.0739,  0.0713])
    >>> torch.allclose(sa_v1(inputs), sa_v2(inputs))
    True
    """
    raise NotImplementedError("qkv_attention task 3: transfer_weights")
