"""Decoding: temperature and top-k (book section 5.3).

Greedy decoding (generate_text_simple) always picks the most likely token, so a prompt always
gets the same, often repetitive, continuation. Sampling the next token from the softmax
distribution adds variety. Temperature controls how adventurous the sampling is (low: close to
greedy; high: close to uniform), and top-k filtering keeps only the k most likely tokens, so the
sampler never picks from the long tail of nonsense. You combine both in `generate`, which can
also stop early at an end-of-text token.

Check your work: kata check decoding   (or make check TOPIC=decoding)
"""

import torch


def softmax_with_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Task 1. Softmax of the logits divided by the temperature, over the last dim:

        probas = softmax(logits / temperature)

    Shapes: logits (..., vocab_size), e.g. (vocab_size,) or (b, vocab_size); returns the same shape.

    The book's logits for its 9-word vocabulary
    ("closer", "every", "effort", "forward", "inches", "moves", "pizza", "toward", "you"):

    >>> logits = torch.tensor([4.51, 0.89, -1.90, 6.75, 1.63, -1.62, -1.89, 6.28, 1.79])
    >>> softmax_with_temperature(logits, 5.0)
    tensor([0.1546, 0.0750, 0.0429, 0.2421, 0.0869, 0.0454, 0.0430, 0.2203, 0.0898])
    >>> softmax_with_temperature(logits, 0.1)[3]   # "forward" takes nearly everything
    tensor(0.9910)

    Temperature scales the logits, not the probabilities: softmax(logits) / temperature would
    not even sum to 1.
    """
    raise NotImplementedError("decoding task 1: softmax_with_temperature")


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Task 2. Keep the k largest logits along the last dim; set every other entry to -inf.

        min_val = the k-th largest value of each row (torch.topk gives them sorted)
        result = -inf where logits < min_val, else logits

    Entries equal to the k-th largest value are kept, so ties can keep more than k.
    After softmax, -inf becomes probability exactly 0.

    Shapes: logits (..., vocab_size); returns the same shape.

    >>> logits = torch.tensor([4.51, 0.89, -1.90, 6.75, 1.63, -1.62, -1.89, 6.28, 1.79])
    >>> top_k_filter(logits, 3)
    tensor([4.5100,   -inf,   -inf, 6.7500,   -inf,   -inf,   -inf, 6.2800,   -inf])
    >>> torch.softmax(top_k_filter(logits, 3), dim=-1)
    tensor([0.0615, 0.0000, 0.0000, 0.5775, 0.0000, 0.0000, 0.0000, 0.3610, 0.0000])
    >>> top_k_filter(torch.tensor([[1., 2., 2., 0.], [3., 1., 0., 2.]]), 2)   # each row on its own
    tensor([[-inf, 2., 2., -inf],
            [3., -inf, -inf, 2.]])
    """
    raise NotImplementedError("decoding task 2: top_k_filter")


def generate(model, idx: torch.Tensor, max_new_tokens: int, context_size: int,
             temperature: float = 0.0, top_k: int | None = None,
             eos_id: int | None = None) -> torch.Tensor:
    """Task 3. generate_text_simple with top-k, temperature sampling and an early stop.

    Repeat max_new_tokens times:

        idx_cond = the last context_size tokens of idx; logits = model(idx_cond), no gradients
        logits = the logits of the last position
        if top_k is not None: logits = top_k_filter(logits, top_k)
        if temperature > 0: probas = softmax_with_temperature(logits, temperature)
                            idx_next = one id sampled from probas (torch.multinomial, num_samples=1)
        else:               idx_next = argmax of logits (greedy, like generate_text_simple)
        if idx_next is eos_id: stop, without appending it (for a batch: when every row is eos_id)
        append idx_next to idx

    Shapes: idx (b, num_tokens); last-position logits (b, vocab_size); idx_next (b, 1);
    returns (b, num_tokens + number of tokens generated), at most num_tokens + max_new_tokens.

    >>> from .gpt_model import GPTModel
    >>> cfg = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2,
    ...        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": False}
    >>> _ = torch.manual_seed(123)
    >>> model = GPTModel(cfg).eval()
    >>> start = torch.tensor([[1, 2, 3]])
    >>> generate(model, start, max_new_tokens=4, context_size=7)   # greedy
    tensor([[ 1,  2,  3,  0,  9,  4, 10]])
    >>> generate(model, start, max_new_tokens=4, context_size=7, eos_id=9)   # stops before 9
    tensor([[1, 2, 3, 0]])
    >>> _ = torch.manual_seed(123)
    >>> generate(model, start, max_new_tokens=4, context_size=7, temperature=1.0, top_k=3)
    tensor([[1, 2, 3, 0, 9, 2, 5]])
    """
    raise NotImplementedError("decoding task 3: generate")
