"""The building blocks of a GPT (book sections 4.2-4.5).

A GPT is a stack of identical transformer blocks. Here you build what goes into one: layer
normalisation (keeps activations at mean 0 and variance 1 so training stays stable), the GELU
activation, the feed-forward network that processes each token on its own, shortcut connections
(and a small experiment showing why deep networks need them), and finally TransformerBlock,
which wraps multi-head attention and the feed-forward network in pre-norm shortcuts.

Check your work: kata check gpt_blocks   (or make check TOPIC=gpt_blocks)
"""

import math

import torch
import torch.nn as nn

from .multihead_attention import MultiHeadAttention


class LayerNorm(nn.Module):
    """Task 1. Layer normalisation over the last dimension, with a learned scale and shift.

    >>> ln = LayerNorm(4)
    >>> [name for name, _ in ln.named_parameters()]
    ['scale', 'shift']
    >>> ln(torch.tensor([[1., 2., 3., 4.], [2., 2., 2., 6.]])).detach()
    tensor([[-1.3416, -0.4472,  0.4472,  1.3416],
            [-0.5773, -0.5773, -0.5773,  1.7320]])

    Row 1: mean 2.5, variance ((1.5^2 + 0.5^2) * 2) / 4 = 1.25 (divided by 4, not 3),
    so 1 becomes (1 - 2.5) / sqrt(1.25 + 1e-5) = -1.3416.
    """

    def __init__(self, emb_dim: int):
        """Task 1. Create, in this order:

        - eps: the float 1e-5
        - scale: nn.Parameter of torch.ones(emb_dim)
        - shift: nn.Parameter of torch.zeros(emb_dim)
        """
        raise NotImplementedError("gpt_blocks task 1: LayerNorm.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 1. For each vector along the last dim (each token's embedding):

            mean = mean of x over the last dim
            var  = biased variance over the last dim: mean((x - mean)^2), i.e. divided by
                   emb_dim, not emb_dim - 1 (torch: unbiased=False)
            norm_x = (x - mean) / sqrt(var + eps)
            return scale * norm_x + shift

        Shapes: x (..., emb_dim), e.g. (b, num_tokens, emb_dim); mean and var (..., 1)
        (keepdim=True, so they broadcast); returns the shape of x.
        See the class docstring for a worked example.
        """
        raise NotImplementedError("gpt_blocks task 1: LayerNorm.forward")


class GELU(nn.Module):
    """Task 2. The GELU activation in the tanh approximation GPT-2 was trained with."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 2. Elementwise:

            GELU(x) = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))

        Shapes: any; returns the shape of x.

        >>> GELU()(torch.tensor([-1., 0., 1., 2.]))
        tensor([-0.1588,  0.0000,  0.8412,  1.9546])

        The exact form x * Phi(x) (with erf) gives 0.8413 at 1, not 0.8412: use the tanh one.
        """
        raise NotImplementedError("gpt_blocks task 2: GELU.forward")


class FeedForward(nn.Module):
    """Task 3. Two linear layers around a GELU, applied to every token on its own.

    cfg is the GPT config dict; only cfg["emb_dim"] is used here.

    >>> cfg = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2,
    ...        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": False}
    >>> _ = torch.manual_seed(123)
    >>> ff = FeedForward(cfg)
    >>> ff.layers[0].weight.shape, ff.layers[2].weight.shape
    (torch.Size([24, 6]), torch.Size([6, 24]))
    >>> out = ff(torch.rand(2, 3, 6))
    >>> out.shape
    torch.Size([2, 3, 6])
    >>> out.detach()[0, 0]
    tensor([-0.4440,  0.0410, -0.1509,  0.1943, -0.2633, -0.1470])
    """

    def __init__(self, cfg: dict):
        """Task 3. Create layers: an nn.Sequential of, in this order,

        - nn.Linear(emb_dim, 4 * emb_dim)   (with bias)
        - GELU()
        - nn.Linear(4 * emb_dim, emb_dim)   (with bias)
        """
        raise NotImplementedError("gpt_blocks task 3: FeedForward.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 3. Run x through layers.

        Shapes: x (b, num_tokens, emb_dim) -> hidden (b, num_tokens, 4 * emb_dim)
        -> returns (b, num_tokens, emb_dim).
        """
        raise NotImplementedError("gpt_blocks task 3: FeedForward.forward")


class ExampleDeepNeuralNetwork(nn.Module):
    """Task 4. A deep stack of Linear + GELU layers, with or without shortcut connections.

    The book's experiment: five layers, one input, and the mean absolute gradient of each layer's
    weight after one backward pass (see layer_gradients). Without shortcuts the gradient shrinks
    towards the first layer (vanishing gradients); with them it stays large.

    >>> x = torch.tensor([[1., 0., -1.]])
    >>> _ = torch.manual_seed(123)
    >>> plain = ExampleDeepNeuralNetwork([3, 3, 3, 3, 3, 1], use_shortcut=False)
    >>> grads = layer_gradients(plain, x)
    >>> f"{grads['layers.0.0.weight']:.5f} {grads['layers.4.0.weight']:.4f}"
    '0.00020 0.0050'
    >>> _ = torch.manual_seed(123)
    >>> with_shortcut = ExampleDeepNeuralNetwork([3, 3, 3, 3, 3, 1], use_shortcut=True)
    >>> grads = layer_gradients(with_shortcut, x)
    >>> f"{grads['layers.0.0.weight']:.4f} {grads['layers.4.0.weight']:.4f}"
    '0.2217 1.3259'
    """

    def __init__(self, layer_sizes: list[int], use_shortcut: bool):
        """Task 4. Create, in this order:

        - use_shortcut: the bool
        - layers: an nn.ModuleList with one
          nn.Sequential(nn.Linear(layer_sizes[i], layer_sizes[i + 1]), GELU())
          for each i in 0 .. len(layer_sizes) - 2, in order (five of them for six sizes)
        """
        raise NotImplementedError("gpt_blocks task 4: ExampleDeepNeuralNetwork.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 4. For each layer in order: layer_output = layer(x); then

            x = x + layer_output   if use_shortcut and x.shape == layer_output.shape
            x = layer_output       otherwise (e.g. the last layer, 3 -> 1, cannot have a shortcut)

        Shapes: x (batch, layer_sizes[0]); returns (batch, layer_sizes[-1]).
        """
        raise NotImplementedError("gpt_blocks task 4: ExampleDeepNeuralNetwork.forward")


def layer_gradients(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """Task 4. One backward pass; the mean absolute gradient of every weight.

        output = model(x)
        loss = nn.MSELoss()(output, torch.tensor([[0.]]))
        loss.backward()
        returns {name: param.grad.abs().mean().item()} for each (name, param) of
        model.named_parameters() whose name contains "weight" (biases are left out),
        in named_parameters() order: "layers.0.0.weight", ..., "layers.4.0.weight".

    Shapes: x (1, layer_sizes[0]); output (1, 1). See ExampleDeepNeuralNetwork for the book's numbers.
    """
    raise NotImplementedError("gpt_blocks task 4: layer_gradients")


class TransformerBlock(nn.Module):
    """Task 5. GPT's transformer block: attention and feed forward, each in a pre-norm shortcut.

    >>> cfg = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2,
    ...        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": False}
    >>> _ = torch.manual_seed(123)
    >>> block = TransformerBlock(cfg)
    >>> out = block(torch.rand(2, 4, 6))
    >>> out.shape
    torch.Size([2, 4, 6])
    >>> out.detach()[0, 0]
    tensor([ 0.1466,  0.4784,  0.2941,  0.3261, -0.1807, -0.4432])
    """

    def __init__(self, cfg: dict):
        """Task 5. cfg is the GPT config dict. Create, in this order:

        - att: MultiHeadAttention(d_in=emb_dim, d_out=emb_dim, context_length=context_length,
          dropout=drop_rate, num_heads=n_heads, qkv_bias=qkv_bias), all from cfg
        - ff: FeedForward(cfg)
        - norm1, norm2: LayerNorm(emb_dim) each
        - drop_shortcut: nn.Dropout(drop_rate)
        """
        raise NotImplementedError("gpt_blocks task 5: TransformerBlock.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 5. Pre-norm: normalise the input of each sub-layer, not the sum.

            x = x + drop_shortcut(att(norm1(x)))     # shortcut around attention
            x = x + drop_shortcut(ff(norm2(x)))      # shortcut around the feed forward
            return x

        Shapes: x (b, num_tokens, emb_dim), num_tokens <= context_length;
        returns (b, num_tokens, emb_dim).
        """
        raise NotImplementedError("gpt_blocks task 5: TransformerBlock.forward")
