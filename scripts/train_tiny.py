"""Train a tiny GPT on data/corpus.txt: chapters 2 to 5 end to end, in a few seconds on a CPU.

    python scripts/train_tiny.py                    # the reference solutions
    python scripts/train_tiny.py --impl exercises   # your own code, once every topic passes

Uses create_dataloader_v1 (input_target_pairs), GPTModel (gpt_model), train_model_simple
(training) and generate (decoding) from the chosen folder. The model is GPT-2's architecture
and tokenizer with everything else made small, so the loss falls quickly but the text it writes
afterwards is only corpus-flavoured babble: 1,500 tokens of training data are not much.
"""

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TINY_CONFIG = {
    "vocab_size": 50257,  # GPT-2's tokenizer, so the vocabulary stays full size
    "context_length": 32,
    "emb_dim": 32,
    "n_heads": 2,
    "n_layers": 2,
    "drop_rate": 0.1,
    "qkv_bias": False,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = "solutions" if (ROOT / "solutions").is_dir() else "exercises"  # a student release has none
    parser.add_argument("--impl", default=default,
                        help=f"folder of topic modules to use (default: {default})")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        from grader.course.offline import install
        install()  # GPT-2's BPE files from data/, no download
    import tiktoken

    # A folder without __init__.py is a namespace package, so "<impl>.gpt_model" imports.
    pairs = importlib.import_module(f"{args.impl}.input_target_pairs")
    gpt_model = importlib.import_module(f"{args.impl}.gpt_model")
    training = importlib.import_module(f"{args.impl}.training")
    decoding = importlib.import_module(f"{args.impl}.decoding")

    text = (ROOT / "data" / "corpus.txt").read_text(encoding="utf-8")
    split_idx = int(0.9 * len(text))
    train_text, val_text = text[:split_idx], text[split_idx:]
    context_length = TINY_CONFIG["context_length"]

    torch.manual_seed(123)
    train_loader = pairs.create_dataloader_v1(
        train_text, batch_size=4, max_length=context_length, stride=context_length,
        shuffle=True, drop_last=True)
    val_loader = pairs.create_dataloader_v1(
        val_text, batch_size=4, max_length=context_length, stride=context_length,
        shuffle=False, drop_last=False)

    model = gpt_model.GPTModel(TINY_CONFIG)
    optimizer = torch.optim.AdamW(model.parameters(), lr=4e-3, weight_decay=0.1)
    tokenizer = tiktoken.get_encoding("gpt2")
    print(f"{gpt_model.count_parameters(model):,} parameters; "
          f"{len(train_loader)} training and {len(val_loader)} validation batches per epoch")

    start = time.perf_counter()
    train_losses, val_losses, tokens_seen = training.train_model_simple(
        model, train_loader, val_loader, optimizer, "cpu", num_epochs=args.epochs,
        eval_freq=6, eval_iter=2, start_context="Every effort moves you", tokenizer=tokenizer)
    seconds = time.perf_counter() - start
    print(f"trained on {tokens_seen[-1]:,} tokens in {seconds:.1f} s: train loss "
          f"{train_losses[0]:.3f} -> {train_losses[-1]:.3f}, val loss "
          f"{val_losses[0]:.3f} -> {val_losses[-1]:.3f}")

    model.eval()
    torch.manual_seed(123)
    token_ids = decoding.generate(
        model, training.text_to_token_ids("Every effort moves you", tokenizer),
        max_new_tokens=30, context_size=context_length, temperature=1.0, top_k=25)
    print("sample (temperature 1.0, top_k 25):",
          training.token_ids_to_text(token_ids, tokenizer).replace("\n", " "))


def run(main) -> None:
    """Run a script's main(); a function still a stub ends it with what to write and how to check it."""
    try:
        main()
    except NotImplementedError as unfinished:  # a stub: "<slug> task <N>: <api name>"
        slug = str(unfinished).split()[0]
        sys.exit(f"not written yet: {unfinished}. Check your work: make check TOPIC={slug}")


if __name__ == "__main__":
    run(main)
