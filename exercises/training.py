"""Loss, perplexity and a training loop (book sections 5.1-5.2).

An untrained GPT spreads its probability almost evenly over 50,257 tokens. Training raises the
probability of the token that really comes next. You write the helpers that move between text
and token ids, the cross-entropy loss of a batch and of a whole data loader, perplexity (the loss
as "how many tokens the model hesitates between"), and the book's simple training loop, which
reports training and validation losses and prints a sample of generated text after each epoch.

Check your work: kata check training   (or make check TOPIC=training)
"""

import math

import torch

from .gpt_model import generate_text_simple


def text_to_token_ids(text: str, tokenizer) -> torch.Tensor:
    """Task 1. Encode text with tokenizer (e.g. tiktoken.get_encoding("gpt2")), allowing the
    special token <|endoftext|> (allowed_special={"<|endoftext|>"}), as a batch of one.

    Shapes: returns (1, num_tokens), dtype int64.

    >>> import tiktoken
    >>> tokenizer = tiktoken.get_encoding("gpt2")
    >>> text_to_token_ids("Every effort moves you", tokenizer)
    tensor([[6109, 3626, 6100,  345]])
    >>> text_to_token_ids("Hi<|endoftext|>", tokenizer)
    tensor([[17250, 50256]])
    """
    raise NotImplementedError("training task 1: text_to_token_ids")


def token_ids_to_text(token_ids: torch.Tensor, tokenizer) -> str:
    """Task 1. The reverse: drop the batch dimension and decode the ids to a string.

    Shapes: token_ids (1, num_tokens).

    >>> import tiktoken
    >>> tokenizer = tiktoken.get_encoding("gpt2")
    >>> token_ids_to_text(torch.tensor([[6109, 3626, 6100, 345]]), tokenizer)
    'Every effort moves you'
    """
    raise NotImplementedError("training task 1: token_ids_to_text")


def calc_loss_batch(input_batch: torch.Tensor, target_batch: torch.Tensor, model,
                    device) -> torch.Tensor:
    """Task 2. The mean cross-entropy of one batch.

    Move both batches to device, logits = model(input_batch), then
    torch.nn.functional.cross_entropy over every position of every sequence:

        loss = mean over all b * num_tokens positions of -log softmax(logits)[target]

    cross_entropy expects 2-D logits (N, vocab_size) and 1-D targets (N,): flatten first.

    Shapes: input_batch, target_batch (b, num_tokens); logits (b, num_tokens, vocab_size)
    -> (b * num_tokens, vocab_size); targets -> (b * num_tokens,); returns a 0-dim tensor.

    A model that gives every token the same logit has loss log(vocab_size) = log(11):

    >>> uniform = lambda ids: torch.zeros(*ids.shape, 11)
    >>> calc_loss_batch(torch.tensor([[1, 2, 3]]), torch.tensor([[2, 3, 4]]), uniform, "cpu")
    tensor(2.3979)

    A tiny GPTModel (see gpt_model.py):

    >>> from .gpt_model import GPTModel
    >>> cfg = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2,
    ...        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": False}
    >>> _ = torch.manual_seed(123)
    >>> model = GPTModel(cfg).eval()
    >>> inputs = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    >>> targets = torch.tensor([[2, 3, 4, 5], [6, 7, 8, 9]])
    >>> calc_loss_batch(inputs, targets, model, "cpu").detach()
    tensor(2.7222)

    The book (GPTModel(GPT_CONFIG_124M) with context_length 256, seed 123, eval mode,
    inputs [[16833, 3626, 6100], [40, 1107, 588]], targets [[3626, 6100, 345],
    [1107, 588, 11311]]) gets tensor(10.7940).
    """
    raise NotImplementedError("training task 2: calc_loss_batch")


def calc_loss_loader(data_loader, model, device, num_batches: int | None = None) -> float:
    """Task 3. The mean of calc_loss_batch over the first num_batches batches of data_loader.

        num_batches = len(data_loader) if num_batches is None, else min(num_batches, len(data_loader))
        returns (sum of loss.item() over the first num_batches batches) / num_batches
        returns float("nan") if the loader is empty

    data_loader is anything with len() that yields (input_batch, target_batch) pairs, e.g. a
    DataLoader from create_dataloader_v1, or a plain list. Returns a Python float.

    >>> from .gpt_model import GPTModel
    >>> cfg = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2,
    ...        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": False}
    >>> _ = torch.manual_seed(123)
    >>> model = GPTModel(cfg).eval()
    >>> inputs = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    >>> targets = torch.tensor([[2, 3, 4, 5], [6, 7, 8, 9]])
    >>> loader = [(inputs, targets), (targets, inputs), (inputs.flip(1), targets.flip(1))]
    >>> with torch.no_grad():   # batch losses 2.7222, 2.6822, 2.6202
    ...     round(calc_loss_loader(loader, model, "cpu"), 4)
    2.6749
    >>> with torch.no_grad():
    ...     round(calc_loss_loader(loader, model, "cpu", num_batches=2), 4)
    2.7022
    >>> calc_loss_loader([], model, "cpu")
    nan
    """
    raise NotImplementedError("training task 3: calc_loss_loader")


def perplexity(loss):
    """Task 4. Perplexity = exp(loss), loss being the mean cross-entropy (in nats).

    A tensor loss gives a tensor, a float gives a float. A model that hesitates evenly between
    11 tokens has loss log(11) and perplexity 11.

    >>> perplexity(torch.tensor(2.3979))
    tensor(11.0001)
    >>> round(perplexity(math.log(11)), 6)
    11.0

    The book's loss of 10.7940 is a perplexity of about 48,726 (the book prints 48725.8203):
    the untrained model is about as unsure as picking among 48,726 of its 50,257 tokens.
    """
    raise NotImplementedError("training task 4: perplexity")


def evaluate_model(model, train_loader, val_loader, device, eval_iter: int) -> tuple[float, float]:
    """Task 5 (helper). The loss on the first eval_iter batches of each loader.

    Put the model in eval mode (no dropout) and compute, without gradients,
    train_loss = calc_loss_loader(train_loader, ..., num_batches=eval_iter) and val_loss the same
    way on val_loader; put the model back in train mode; return (train_loss, val_loss).
    """
    raise NotImplementedError("training task 5: evaluate_model")


def generate_and_print_sample(model, tokenizer, device, start_context: str) -> None:
    """Task 5 (helper). Print what the model currently writes after start_context.

    In eval mode and without gradients: encode start_context (text_to_token_ids), move it to
    device, generate_text_simple with max_new_tokens=50 and context_size = the number of
    positions of model.pos_emb (its context_length), decode (token_ids_to_text) and print the
    text on one line (newlines replaced by spaces). Put the model back in train mode.
    """
    raise NotImplementedError("training task 5: generate_and_print_sample")


def train_model_simple(model, train_loader, val_loader, optimizer, device, num_epochs: int,
                       eval_freq: int, eval_iter: int, start_context: str, tokenizer):
    """Task 5. The book's training loop. Returns (train_losses, val_losses, track_tokens_seen).

    tokens_seen = 0, global_step = -1; for each of num_epochs epochs, in train mode, for each
    (input_batch, target_batch) of train_loader:

        optimizer.zero_grad(); loss = calc_loss_batch(...); loss.backward(); optimizer.step()
        tokens_seen += input_batch.numel(); global_step += 1
        every eval_freq steps (global_step % eval_freq == 0, so step 0 too):
            train_loss, val_loss = evaluate_model(model, train_loader, val_loader, device, eval_iter)
            append them to train_losses and val_losses, and tokens_seen to track_tokens_seen
            print(f"Ep {epoch + 1} (Step {global_step:06d}): Train loss {train_loss:.3f}, Val loss {val_loss:.3f}")

    and after each epoch generate_and_print_sample(model, tokenizer, device, start_context).

    A tiny model learning one repeated sentence (the printed log is set aside here):

    >>> import contextlib, io, tiktoken
    >>> from .gpt_model import GPTModel
    >>> tokenizer = tiktoken.get_encoding("gpt2")
    >>> cfg = {"vocab_size": 50257, "context_length": 8, "emb_dim": 16, "n_heads": 2,
    ...        "n_layers": 1, "drop_rate": 0.0, "qkv_bias": False}
    >>> ids = text_to_token_ids("Every effort moves you forward, and every step counts. " * 4, tokenizer)
    >>> x, y = ids[:, :32].view(4, 8), ids[:, 1:33].view(4, 8)
    >>> loader = [(x[:2], y[:2]), (x[2:], y[2:])]
    >>> _ = torch.manual_seed(123)
    >>> model = GPTModel(cfg)
    >>> optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1)
    >>> with contextlib.redirect_stdout(io.StringIO()) as log:
    ...     train_losses, val_losses, tokens_seen = train_model_simple(
    ...         model, loader, loader, optimizer, "cpu", num_epochs=3, eval_freq=2, eval_iter=2,
    ...         start_context="Every effort", tokenizer=tokenizer)
    >>> [round(loss, 3) for loss in train_losses], tokens_seen
    ([10.538, 10.041, 9.531], [16, 48, 80])
    >>> log.getvalue().splitlines()[0]
    'Ep 1 (Step 000000): Train loss 10.538, Val loss 10.538'

    The book (GPT_CONFIG_124M with context_length 256, the-verdict.txt, AdamW lr 0.0004 and
    weight_decay 0.1, eval_freq=5, eval_iter=5) prints "Ep 1 (Step 000000): Train loss 9.781,
    Val loss 9.933" first.
    """
    raise NotImplementedError("training task 5: train_model_simple")
