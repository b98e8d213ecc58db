"""Llama's parts: RMSNorm, SwiGLU and rotary embeddings (the book's bonus material, ch05/07_gpt_to_llama).

After GPT-2, today's models keep the transformer block and swap three of its parts. Here you
build them: RMSNorm (LayerNorm without centring and without a shift), the SiLU activation and the
SwiGLU feed forward that gates one projection with another, and rotary position embeddings
(RoPE), which rotate queries and keys by an angle that grows with the position, so that the
score of a query and a key depends only on how far apart they are. Topic gqa uses your RoPE.

Check your work: kata check llama_parts   (or make check TOPIC=llama_parts)
"""

import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    """Task 1. Root-mean-square normalisation over the last dimension, with a learned scale.

    The same maths as torch.nn.RMSNorm(emb_dim, eps=1e-5) (which this kata asks you not to call).

    >>> norm = RMSNorm(4)
    >>> [name for name, _ in norm.named_parameters()]
    ['weight']
    >>> norm(torch.tensor([[1., 2., 3., 4.], [0.001, -0.002, 0.002, 0.001]])).detach()
    tensor([[ 0.3651,  0.7303,  1.0954,  1.4606],
            [ 0.2828, -0.5657,  0.5657,  0.2828]])

    Row 1: mean square (1 + 4 + 9 + 16) / 4 = 7.5, so 1 becomes 1 / sqrt(7.5 + 1e-5) = 0.3651.
    Row 2 is tiny (mean square 2.5e-6): there eps = 1e-5 matters, 0.001 / sqrt(1.25e-5) = 0.2828.
    >>> x = torch.randn(2, 3, 4)
    >>> torch.allclose(norm(x), torch.nn.RMSNorm(4, eps=1e-5)(x))
    True
    """

    def __init__(self, emb_dim: int, eps: float = 1e-5):
        """Task 1. Create, in this order:

        - eps: the float eps (default 1e-5)
        - emb_dim: the int emb_dim
        - weight: nn.Parameter of torch.ones(emb_dim)   (no bias: RMSNorm does not shift)
        """
        raise NotImplementedError("llama_parts task 1: RMSNorm.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 1. For each vector along the last dim (each token's embedding):

            means = mean of x^2 over the last dim      (the mean square; x is not centred)
            x_normed = x / sqrt(means + eps)           (torch.rsqrt(means + eps) is 1 / sqrt(...))
            return x_normed * weight

        Shapes: x (..., emb_dim); means (..., 1) (keepdim=True, so it broadcasts); returns the
        shape of x. See the class docstring for a worked example.
        """
        raise NotImplementedError("llama_parts task 1: RMSNorm.forward")


class SiLU(nn.Module):
    """Task 2. The SiLU (swish) activation Llama uses in place of GELU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 2. Elementwise SiLU(x) = x * sigmoid(x) = x / (1 + exp(-x)); the same as
        torch.nn.functional.silu (which this kata asks you not to call).

        Shapes: any; returns the shape of x.

        >>> SiLU()(torch.tensor([-2., -1., 0., 1., 2.]))
        tensor([-0.2384, -0.2689,  0.0000,  0.7311,  1.7616])
        >>> x = torch.linspace(-6, 6, 25)
        >>> torch.allclose(SiLU()(x), torch.nn.functional.silu(x))
        True
        """
        raise NotImplementedError("llama_parts task 2: SiLU.forward")


class FeedForward(nn.Module):
    """Task 3. The SwiGLU feed forward: SiLU(fc1(x)) gates fc2(x), then fc3 projects back.

    cfg is the Llama config dict; used here: cfg["emb_dim"], cfg["hidden_dim"] and cfg["dtype"]
    (the dtype of the weights, e.g. torch.float32 or torch.bfloat16).

    >>> _ = torch.manual_seed(123)
    >>> ff = FeedForward({"emb_dim": 4, "hidden_dim": 6, "dtype": torch.float32})
    >>> [(name, tuple(p.shape)) for name, p in ff.named_parameters()]
    [('fc1.weight', (6, 4)), ('fc2.weight', (6, 4)), ('fc3.weight', (4, 6))]
    >>> out = ff(torch.rand(2, 3, 4))
    >>> out.shape
    torch.Size([2, 3, 4])
    >>> out.detach()[0, 0]
    tensor([-0.0194,  0.0472, -0.0336,  0.0122])
    """

    def __init__(self, cfg: dict):
        """Task 3. Create, in this order, three nn.Linear layers without bias (bias=False) and with
        dtype=cfg["dtype"]:

        - fc1: emb_dim -> hidden_dim
        - fc2: emb_dim -> hidden_dim
        - fc3: hidden_dim -> emb_dim
        - silu: your SiLU() (it has no parameters)
        """
        raise NotImplementedError("llama_parts task 3: FeedForward.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 3. return fc3(silu(fc1(x)) * fc2(x)): only fc1's output goes through SiLU.

        Shapes: x (b, num_tokens, emb_dim) -> fc1(x), fc2(x) (b, num_tokens, hidden_dim)
        -> returns (b, num_tokens, emb_dim).
        """
        raise NotImplementedError("llama_parts task 3: FeedForward.forward")


def compute_rope_params(head_dim: int, theta_base: float = 10_000, context_length: int = 4096):
    """Task 4. The cosines and sines of RoPE's angles for every position, in the rotate-half layout.

    Feature pair i (i = 0 ... head_dim/2 - 1) turns at the inverse frequency

        inv_freq[i] = 1 / theta_base ** (2i / head_dim)       (torch.arange(0, head_dim, 2) / head_dim)

    and position p turns it by the angle p * inv_freq[i]. In the rotate-half layout the pair is
    (feature i, feature i + head_dim/2), so both halves of a row hold the same angles:

        angles = [p * inv_freq, p * inv_freq]   (concatenated along the last dim)
        returns cos(angles), sin(angles)

    Shapes: inv_freq (head_dim/2,); angles, cos and sin (context_length, head_dim).
    head_dim must be even (assert it).

    >>> cos, sin = compute_rope_params(head_dim=4, context_length=3)
    >>> cos
    tensor([[ 1.0000,  1.0000,  1.0000,  1.0000],
            [ 0.5403,  0.9999,  0.5403,  0.9999],
            [-0.4161,  0.9998, -0.4161,  0.9998]])
    >>> sin
    tensor([[0.0000, 0.0000, 0.0000, 0.0000],
            [0.8415, 0.0100, 0.8415, 0.0100],
            [0.9093, 0.0200, 0.9093, 0.0200]])

    Position 0 does not turn (cos 1, sin 0); pair 0 turns 1 radian per position, pair 1
    1 / 10000 ** (2/4) = 0.01 radian.
    """
    raise NotImplementedError("llama_parts task 4: compute_rope_params")


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Task 5. Rotate every pair of features of x by its position's angle (rotate-half layout).

    x holds queries or keys, split into heads: (batch_size, num_heads, seq_len, head_dim).
    cos and sin come from compute_rope_params: (context_length, head_dim), context_length >=
    seq_len, so take their first seq_len rows. With x1 = x[..., :head_dim/2] and
    x2 = x[..., head_dim/2:]:

        rotated = cat(-x2, x1)            (along the last dim)
        return x * cos + rotated * sin    (cos and sin broadcast over batch and heads)

    so each pair (a, b) = (x1[i], x2[i]) becomes (a cos - b sin, b cos + a sin). Returns the shape
    and the dtype of x. What this buys: position 0 is unchanged, every vector keeps its norm, and
    apply_rope(q)[p] . apply_rope(k)[p + d] depends on the distance d only, not on p.

    >>> cos, sin = compute_rope_params(head_dim=4, context_length=3)
    >>> q = torch.tensor([1., 0., 0., 0.]).repeat(1, 1, 3, 1)   # the same vector at positions 0, 1, 2
    >>> apply_rope(q, cos, sin)
    tensor([[[[ 1.0000,  0.0000,  0.0000,  0.0000],
              [ 0.5403,  0.0000,  0.8415,  0.0000],
              [-0.4161,  0.0000,  0.9093,  0.0000]]]])
    """
    raise NotImplementedError("llama_parts task 5: apply_rope")
