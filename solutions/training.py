"""Loss, perplexity and a training loop (book sections 5.1-5.2).

The model is trained to give the true next token a high probability: the loss is the
cross-entropy between every position's logits and the token that follows it.
"""

import math

import torch

from .gpt_model import generate_text_simple


def text_to_token_ids(text: str, tokenizer) -> torch.Tensor:
    encoded = tokenizer.encode(text, allowed_special={"<|endoftext|>"})
    return torch.tensor(encoded).unsqueeze(0)  # (num_tokens,) -> (1, num_tokens): a batch of one


def token_ids_to_text(token_ids: torch.Tensor, tokenizer) -> str:
    flat = token_ids.squeeze(0)  # (1, num_tokens) -> (num_tokens,)
    return tokenizer.decode(flat.tolist())


def calc_loss_batch(input_batch: torch.Tensor, target_batch: torch.Tensor, model,
                    device) -> torch.Tensor:
    input_batch, target_batch = input_batch.to(device), target_batch.to(device)
    logits = model(input_batch)  # (b, num_tokens) -> (b, num_tokens, vocab_size)
    # cross_entropy wants one row of logits per target: every position of every sequence.
    loss = torch.nn.functional.cross_entropy(
        logits.flatten(0, 1),    # (b, num_tokens, vocab_size) -> (b * num_tokens, vocab_size)
        target_batch.flatten(),  # (b, num_tokens) -> (b * num_tokens,)
    )
    return loss


def calc_loss_loader(data_loader, model, device, num_batches: int | None = None) -> float:
    """Mean batch loss over the first num_batches batches (all of them if None)."""
    if len(data_loader) == 0:
        return float("nan")
    if num_batches is None:
        num_batches = len(data_loader)
    else:
        num_batches = min(num_batches, len(data_loader))
    total_loss = 0.0
    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i >= num_batches:
            break
        total_loss += calc_loss_batch(input_batch, target_batch, model, device).item()
    return total_loss / num_batches


def perplexity(loss):
    """exp(mean cross-entropy): the number of tokens the model is, in effect, choosing among."""
    if isinstance(loss, torch.Tensor):
        return torch.exp(loss)
    return math.exp(loss)


def evaluate_model(model, train_loader, val_loader, device, eval_iter: int) -> tuple[float, float]:
    model.eval()  # dropout off, so that the losses measure the model, not the noise
    with torch.no_grad():
        train_loss = calc_loss_loader(train_loader, model, device, num_batches=eval_iter)
        val_loss = calc_loss_loader(val_loader, model, device, num_batches=eval_iter)
    model.train()
    return train_loss, val_loss


def generate_and_print_sample(model, tokenizer, device, start_context: str) -> None:
    model.eval()
    context_size = model.pos_emb.weight.shape[0]
    encoded = text_to_token_ids(start_context, tokenizer).to(device)
    with torch.no_grad():
        token_ids = generate_text_simple(
            model=model, idx=encoded, max_new_tokens=50, context_size=context_size
        )
    decoded_text = token_ids_to_text(token_ids, tokenizer)
    print(decoded_text.replace("\n", " "))  # one line per sample keeps the log readable
    model.train()


def train_model_simple(model, train_loader, val_loader, optimizer, device, num_epochs: int,
                       eval_freq: int, eval_iter: int, start_context: str, tokenizer):
    train_losses, val_losses, track_tokens_seen = [], [], []
    tokens_seen, global_step = 0, -1

    for epoch in range(num_epochs):
        model.train()
        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()  # gradients accumulate in .grad unless cleared
            loss = calc_loss_batch(input_batch, target_batch, model, device)
            loss.backward()
            optimizer.step()
            tokens_seen += input_batch.numel()
            global_step += 1

            if global_step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(
                    model, train_loader, val_loader, device, eval_iter)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                track_tokens_seen.append(tokens_seen)
                print(f"Ep {epoch + 1} (Step {global_step:06d}): "
                      f"Train loss {train_loss:.3f}, Val loss {val_loss:.3f}")

        generate_and_print_sample(model, tokenizer, device, start_context)

    return train_losses, val_losses, track_tokens_seen
