"""The GPT model and greedy generation (book sections 4.6-4.7).

Token and position embeddings, a stack of transformer blocks, a final LayerNorm and a linear
head that turns every position's vector into one logit per vocabulary entry.
"""

import torch
import torch.nn as nn

from .gpt_blocks import LayerNorm, TransformerBlock

GPT_CONFIG_124M = {
    "vocab_size": 50257,     # GPT-2's BPE vocabulary
    "context_length": 1024,  # the longest input the position embedding covers
    "emb_dim": 768,
    "n_heads": 12,
    "n_layers": 12,
    "drop_rate": 0.1,
    "qkv_bias": False,
}


class GPTModel(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = nn.Dropout(cfg["drop_rate"])
        self.trf_blocks = nn.Sequential(*[TransformerBlock(cfg) for _ in range(cfg["n_layers"])])
        self.final_norm = LayerNorm(cfg["emb_dim"])
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        batch_size, num_tokens = in_idx.shape
        context_length = self.pos_emb.num_embeddings
        assert num_tokens <= context_length, \
            f"Cannot forward {num_tokens} tokens, context_length is only {context_length}"
        tok_embeds = self.tok_emb(in_idx)  # (b, num_tokens) -> (b, num_tokens, emb_dim)
        # One vector per position 0..num_tokens-1, shared by every sequence in the batch.
        positions = torch.arange(num_tokens, device=in_idx.device)
        pos_embeds = self.pos_emb(positions)  # (num_tokens,) -> (num_tokens, emb_dim)
        x = tok_embeds + pos_embeds
        x = self.drop_emb(x)
        x = self.trf_blocks(x)
        x = self.final_norm(x)
        logits = self.out_head(x)  # (b, num_tokens, emb_dim) -> (b, num_tokens, vocab_size)
        return logits


def count_parameters(model: nn.Module, tied: bool = False) -> int:
    """All parameters; with tied=True, out_head shares tok_emb's weight, so count it once."""
    total = sum(p.numel() for p in model.parameters())
    if tied:
        total -= model.out_head.weight.numel()
    return total


def generate_text_simple(model: nn.Module, idx: torch.Tensor, max_new_tokens: int,
                         context_size: int) -> torch.Tensor:
    """Greedy decoding: append the most likely next token, max_new_tokens times."""
    for _ in range(max_new_tokens):
        # The model sees at most context_size tokens: keep the most recent ones.
        idx_cond = idx[:, -context_size:]
        with torch.no_grad():
            logits = model(idx_cond)  # (b, num_tokens) -> (b, num_tokens, vocab_size)
        # Only the last position predicts the token that comes next.
        logits = logits[:, -1, :]  # (b, num_tokens, vocab_size) -> (b, vocab_size)
        # softmax keeps the order of the logits, so argmax picks the same token either way.
        probas = torch.softmax(logits, dim=-1)
        idx_next = torch.argmax(probas, dim=-1, keepdim=True)  # (b, vocab_size) -> (b, 1)
        idx = torch.cat((idx, idx_next), dim=1)  # (b, num_tokens) -> (b, num_tokens + 1)
    return idx
