"""LoRA: low-rank adaptation (book appendix E).

Fine-tuning all of GPT-2's 124 million weights is slow and each fine-tuned copy is as large as the
model. LoRA freezes the pretrained weights W and learns, beside each linear layer, a low-rank
update: x @ W.T + alpha * (x @ A @ B), with A of shape (in_dim, rank) and B of shape (rank, out_dim)
for a small rank. B starts at zero, so the adapted model first computes exactly what the
pretrained one did; training then moves A and B only.

Check your work: kata check lora   (or make check TOPIC=lora)
"""

import math

import torch

from .gpt_model import GPTModel  # noqa: F401  (chapter 4's model: the checks adapt it)


class LoRALayer(torch.nn.Module):
    """Task 1. The low-rank update alpha * (x @ A @ B).

    __init__ creates, in this order, as the book does:
      - self.A, an nn.Parameter of shape (in_dim, rank), initialised in place with
        torch.nn.init.kaiming_uniform_(self.A, a=math.sqrt(5)) (nn.Linear's own initialisation);
      - self.B, an nn.Parameter of shape (rank, out_dim), all zeros;
      - self.alpha, the scaling factor.
    forward(x): x (..., in_dim) -> alpha * (x @ A @ B) (..., out_dim).

    >>> torch.manual_seed(123)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> layer = LoRALayer(768, 768, rank=16, alpha=16)
    >>> layer.A.shape, layer.B.shape
    (torch.Size([768, 16]), torch.Size([16, 768]))
    >>> sum(p.numel() for p in layer.parameters())  # W itself has 768 * 768 = 589,824
    24576
    >>> layer(torch.ones(2, 768)).abs().max()  # B is zero: no update yet
    tensor(0., grad_fn=<MaxBackward1>)
    """

    def __init__(self, in_dim, out_dim, rank, alpha):
        raise NotImplementedError("lora task 1: LoRALayer.__init__")

    def forward(self, x):
        raise NotImplementedError("lora task 1: LoRALayer.forward")


class LinearWithLoRA(torch.nn.Module):
    """Task 2. A linear layer with a LoRA update beside it: linear(x) + lora(x).

    __init__ keeps the given nn.Linear as self.linear and creates
    self.lora = LoRALayer(linear.in_features, linear.out_features, rank, alpha).
    forward(x): x (..., in_features) -> (..., out_features). At initialisation (B is zero) it gives
    exactly what `linear` gives.

    >>> torch.manual_seed(123)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> linear = torch.nn.Linear(3, 2)
    >>> adapted = LinearWithLoRA(linear, rank=2, alpha=4)
    >>> [name for name, _ in adapted.named_parameters()]
    ['linear.weight', 'linear.bias', 'lora.A', 'lora.B']
    >>> x = torch.tensor([[1.0, 2.0, 3.0]])
    >>> torch.equal(adapted(x), linear(x))
    True
    """

    def __init__(self, linear, rank, alpha):
        raise NotImplementedError("lora task 2: LinearWithLoRA.__init__")

    def forward(self, x):
        raise NotImplementedError("lora task 2: LinearWithLoRA.forward")


def replace_linear_with_lora(model, rank, alpha):
    """Task 3. Replace, in place, every nn.Linear inside `model` (at any depth: the attention and
    feed-forward layers sit in the transformer blocks) with LinearWithLoRA(that linear, rank,
    alpha). Return nothing.

    The book freezes the model first, so that only A and B train. For GPT-2 124M (qkv_bias=True)
    with a two-class output head, counted on the `meta` device (shapes only, no memory):

    >>> cfg = {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12,
    ...        "n_layers": 12, "drop_rate": 0.0, "qkv_bias": True}
    >>> with torch.device("meta"):
    ...     model = GPTModel(cfg)
    ...     model.out_head = torch.nn.Linear(768, 2)
    >>> print(f"{sum(p.numel() for p in model.parameters() if p.requires_grad):,}")
    124,441,346
    >>> for param in model.parameters():
    ...     param.requires_grad = False
    >>> print(f"{sum(p.numel() for p in model.parameters() if p.requires_grad):,}")
    0
    >>> with torch.device("meta"):
    ...     replace_linear_with_lora(model, rank=16, alpha=16)
    >>> print(f"{sum(p.numel() for p in model.parameters() if p.requires_grad):,}")
    2,666,528
    """
    raise NotImplementedError("lora task 3: replace_linear_with_lora")
