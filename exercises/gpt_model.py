"""The GPT model and greedy generation (book sections 4.6-4.7).

You assemble the whole GPT-2 architecture: token and position embeddings, dropout, a stack of
n_layers TransformerBlocks, a final LayerNorm and a linear output head that gives every position
one logit per vocabulary entry. You count its parameters (163 million, or 124 million when the
output head shares the token embedding's weight, as GPT-2 does), and write the simplest way to
make it produce text: repeatedly append the most likely next token.

Check your work: kata check gpt_model   (or make check TOPIC=gpt_model)
"""

import torch
import torch.nn as nn

from .gpt_blocks import LayerNorm, TransformerBlock

# Task 3. GPT-2 small, as in the book.
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
    """Tasks 1 and 2. Token ids in, next-token logits for every position out.

    A tiny configuration (the real one is GPT_CONFIG_124M):

    >>> cfg = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2,
    ...        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": False}
    >>> _ = torch.manual_seed(123)
    >>> model = GPTModel(cfg)
    >>> [name for name, _ in model.named_children()]
    ['tok_emb', 'pos_emb', 'drop_emb', 'trf_blocks', 'final_norm', 'out_head']
    >>> logits = model(torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]]))
    >>> logits.shape
    torch.Size([2, 4, 11])
    >>> logits.detach()[0, 0]
    tensor([-0.4448, -0.7719, -0.2201,  0.7142,  0.1905,  0.6413,  0.2302,  0.4462,
             0.0926,  1.0548, -0.5877])

    With torch.manual_seed(123) and GPTModel(GPT_CONFIG_124M), the book's batch
    [[6109, 3626, 6100, 345], [6109, 1110, 6622, 257]] ("Every effort moves you",
    "Every day holds a") gives logits of shape (2, 4, 50257) starting
    [0.3613, 0.4222, -0.0711, ...].
    """

    def __init__(self, cfg: dict):
        """Task 1. cfg is a config dict like GPT_CONFIG_124M. Create, in this order
        (the order decides which random numbers each layer gets from the seed):

        - tok_emb: nn.Embedding(vocab_size, emb_dim)
        - pos_emb: nn.Embedding(context_length, emb_dim)
        - drop_emb: nn.Dropout(drop_rate)
        - trf_blocks: nn.Sequential of n_layers TransformerBlock(cfg)
        - final_norm: LayerNorm(emb_dim)
        - out_head: nn.Linear(emb_dim, vocab_size, bias=False)
        """
        raise NotImplementedError("gpt_model task 1: GPTModel.__init__")

    def forward(self, in_idx: torch.Tensor) -> torch.Tensor:
        """Task 2.

            x = tok_emb(in_idx) + pos_emb(positions 0, 1, ..., num_tokens - 1)
            x = drop_emb(x), then trf_blocks, then final_norm
            logits = out_head(x)

        Shapes: in_idx (b, num_tokens) of token ids, num_tokens <= context_length;
        token embeddings (b, num_tokens, emb_dim); position embeddings (num_tokens, emb_dim),
        the same for every sequence (broadcast over b); returns logits (b, num_tokens, vocab_size).
        See the class docstring for a worked example.
        """
        raise NotImplementedError("gpt_model task 2: GPTModel.forward")


def count_parameters(model: nn.Module, tied: bool = False) -> int:
    """Task 3. The number of parameters (elements, not tensors) in model.

    With tied=True, count as if out_head shared tok_emb's weight (weight tying, as in GPT-2):
    subtract the number of elements of model.out_head.weight.

    >>> model = GPTModel(GPT_CONFIG_124M)
    >>> count_parameters(model), count_parameters(model, tied=True)
    (163009536, 124412160)

    The tiny configuration of the GPTModel example has 1170 and 1104.
    """
    raise NotImplementedError("gpt_model task 3: count_parameters")


def generate_text_simple(model: nn.Module, idx: torch.Tensor, max_new_tokens: int,
                         context_size: int) -> torch.Tensor:
    """Task 4. Greedy decoding. Repeat max_new_tokens times:

        idx_cond = the last context_size tokens of idx (the model cannot see more)
        logits = model(idx_cond), without gradients (torch.no_grad())
        take the logits of the LAST position only: the prediction for the next token
        idx_next = argmax over the vocabulary (softmax first does not change the argmax)
        append idx_next to idx

    Shapes: idx (b, num_tokens) of token ids; idx_cond (b, min(num_tokens, context_size));
    logits (b, num_tokens, vocab_size) -> last position (b, vocab_size); idx_next (b, 1);
    returns (b, num_tokens + max_new_tokens).

    >>> cfg = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2,
    ...        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": False}
    >>> _ = torch.manual_seed(123)
    >>> model = GPTModel(cfg).eval()
    >>> generate_text_simple(model, torch.tensor([[1, 2, 3]]), max_new_tokens=4, context_size=7)
    tensor([[ 1,  2,  3,  0,  9,  4, 10]])

    An input longer than context_size is cropped to its last context_size tokens:

    >>> generate_text_simple(model, torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8, 9]]), 2, context_size=3)
    tensor([[ 1,  2,  3,  4,  5,  6,  7,  8,  9,  0, 10]])

    The book: torch.manual_seed(123), GPTModel(GPT_CONFIG_124M) in eval mode, "Hello, I am"
    ([15496, 11, 314, 716]) and 6 new tokens give
    [15496, 11, 314, 716, 27018, 24086, 47843, 30961, 42348, 7267].
    """
    raise NotImplementedError("gpt_model task 4: generate_text_simple")
