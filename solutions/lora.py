"""LoRA: low-rank adaptation (book appendix E).

Fine-tuning every weight of a GPT means training, and storing, 124 million numbers. LoRA keeps the
pretrained weights frozen and learns a small update beside each linear layer: x @ A @ B, where A
(in_dim, rank) and B (rank, out_dim) together hold far fewer numbers than W (in_dim, out_dim).
B starts at zero, so at first the adapted model computes exactly what the pretrained one did.
"""

import math

import torch

from .gpt_model import GPTModel  # noqa: F401  (chapter 4's model: the checks adapt it)


class LoRALayer(torch.nn.Module):
    def __init__(self, in_dim, out_dim, rank, alpha):
        super().__init__()
        self.A = torch.nn.Parameter(torch.empty(in_dim, rank))
        # The bound nn.Linear uses for its own weights.
        torch.nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = torch.nn.Parameter(torch.zeros(rank, out_dim))  # zero: no change at the start
        self.alpha = alpha

    def forward(self, x):
        # (..., in_dim) @ (in_dim, rank) @ (rank, out_dim) -> (..., out_dim)
        x = self.alpha * (x @ self.A @ self.B)
        return x


class LinearWithLoRA(torch.nn.Module):
    def __init__(self, linear, rank, alpha):
        super().__init__()
        self.linear = linear
        self.lora = LoRALayer(linear.in_features, linear.out_features, rank, alpha)

    def forward(self, x):
        return self.linear(x) + self.lora(x)


def replace_linear_with_lora(model, rank, alpha):
    for name, module in model.named_children():
        if isinstance(module, torch.nn.Linear):
            setattr(model, name, LinearWithLoRA(module, rank, alpha))
        else:
            # Linear layers sit inside blocks inside the model: look in every child too.
            replace_linear_with_lora(module, rank, alpha)
