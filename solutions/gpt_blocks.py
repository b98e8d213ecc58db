"""The building blocks of a GPT (book sections 4.2-4.5).

Layer normalisation, the GELU activation, the feed-forward network, shortcut connections,
and the transformer block that puts them around multi-head attention.
"""

import math

import torch
import torch.nn as nn

from .multihead_attention import MultiHeadAttention


class LayerNorm(nn.Module):
    def __init__(self, emb_dim: int):
        super().__init__()
        self.eps = 1e-5  # keeps the division finite when a row is constant
        self.scale = nn.Parameter(torch.ones(emb_dim))
        self.shift = nn.Parameter(torch.zeros(emb_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Each token's embedding is normalised on its own: statistics over the last dim only.
        mean = x.mean(dim=-1, keepdim=True)  # (..., emb_dim) -> (..., 1)
        # Biased variance (divide by n), as GPT-2 was trained with.
        var = x.var(dim=-1, keepdim=True, unbiased=False)  # (..., emb_dim) -> (..., 1)
        norm_x = (x - mean) / torch.sqrt(var + self.eps)
        # scale and shift let training undo the normalisation where it hurts.
        return self.scale * norm_x + self.shift


class GELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # GPT-2's tanh approximation of x * Phi(x), not the exact erf form.
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


class FeedForward(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        hidden_dim = 4 * cfg["emb_dim"]  # widen, apply the non-linearity, project back
        self.layers = nn.Sequential(
            nn.Linear(cfg["emb_dim"], hidden_dim),
            GELU(),
            nn.Linear(hidden_dim, cfg["emb_dim"]),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (b, num_tokens, emb_dim) -> (b, num_tokens, 4 * emb_dim) -> (b, num_tokens, emb_dim)
        return self.layers(x)


class ExampleDeepNeuralNetwork(nn.Module):
    """A stack of Linear + GELU layers, to show what shortcuts do to the gradients."""

    def __init__(self, layer_sizes: list[int], use_shortcut: bool):
        super().__init__()
        self.use_shortcut = use_shortcut
        self.layers = nn.ModuleList([
            nn.Sequential(nn.Linear(size_in, size_out), GELU())
            for size_in, size_out in zip(layer_sizes[:-1], layer_sizes[1:])
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            layer_output = layer(x)
            # A shortcut can only be added where the layer keeps the shape.
            if self.use_shortcut and x.shape == layer_output.shape:
                x = x + layer_output
            else:
                x = layer_output
        return x


def layer_gradients(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """Mean absolute gradient of every weight after one backward pass of an MSE loss against 0."""
    output = model(x)
    target = torch.tensor([[0.0]])
    loss = nn.MSELoss()(output, target)
    loss.backward()
    return {
        name: param.grad.abs().mean().item()
        for name, param in model.named_parameters()
        if "weight" in name
    }


class TransformerBlock(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.att = MultiHeadAttention(
            d_in=cfg["emb_dim"],
            d_out=cfg["emb_dim"],
            context_length=cfg["context_length"],
            dropout=cfg["drop_rate"],
            num_heads=cfg["n_heads"],
            qkv_bias=cfg["qkv_bias"],
        )
        self.ff = FeedForward(cfg)
        self.norm1 = LayerNorm(cfg["emb_dim"])
        self.norm2 = LayerNorm(cfg["emb_dim"])
        self.drop_shortcut = nn.Dropout(cfg["drop_rate"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Pre-norm: normalise each sub-layer's input and leave the shortcut path untouched,
        # so that gradients reach early blocks through plain additions.
        x = x + self.drop_shortcut(self.att(self.norm1(x)))
        x = x + self.drop_shortcut(self.ff(self.norm2(x)))
        return x
