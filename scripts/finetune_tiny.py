"""Fine-tune a tiny GPT as a spam classifier on data/sms_tiny.csv: chapter 6 end to end, in seconds.

    python scripts/finetune_tiny.py                    # the reference solutions
    python scripts/finetune_tiny.py --impl exercises   # your own code, once every topic passes
    python scripts/finetune_tiny.py --lora             # appendix E: LoRA adapters instead

Uses GPTModel (gpt_model), SpamDataset, prepare_for_classification, calc_loss_batch,
calc_accuracy_loader and classify_review (classification), and with --lora LinearWithLoRA and
replace_linear_with_lora (lora), from the chosen folder. The model is scripts/train_tiny.py's
tiny GPT (GPT-2's tokenizer, everything else small), freshly initialised from a seed: its
pretraining is not the point here, and takes longer than the fine-tuning. Only the last
transformer block, the final norm and the new two-class head train (with --lora: only the
adapters' A and B), yet the accuracy on the held-out messages rises from chance.
"""

import argparse
import importlib
import io
import os
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from train_tiny import TINY_CONFIG, run  # noqa: E402  (the model train_tiny.py trains, beside this script)


def trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = "solutions" if (ROOT / "solutions").is_dir() else "exercises"  # a student release has none
    parser.add_argument("--impl", default=default, help=f"folder of topic modules to use (default: {default})")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lora", action="store_true", help="train LoRA adapters (rank 8, alpha 16) instead")
    parser.add_argument("--lr", type=float, default=None, help="AdamW's learning rate (default: 1e-3, with --lora 2e-3)")
    args = parser.parse_args()
    # One thread: a model this small gains nothing from more, and loses much when other jobs share the CPU.
    torch.set_num_threads(1)

    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        from grader.course.offline import install
        install()  # GPT-2's BPE files from data/, no download
    import tiktoken

    # A folder without __init__.py is a namespace package, so "<impl>.gpt_model" imports.
    gpt_model = importlib.import_module(f"{args.impl}.gpt_model")
    classification = importlib.import_module(f"{args.impl}.classification")

    # The messages alternate ordinary and spam: two of every eight are held out, so that 36 are
    # left to train on and 12 to test, both sets half spam.
    data = pd.read_csv(ROOT / "data" / "sms_tiny.csv")
    held_out = data.index % 8 >= 6
    tokenizer = tiktoken.get_encoding("gpt2")
    train_dataset = classification.SpamDataset(io.StringIO(data[~held_out].to_csv(index=False)), tokenizer)
    test_dataset = classification.SpamDataset(io.StringIO(data[held_out].to_csv(index=False)), tokenizer,
                                              max_length=train_dataset.max_length)
    torch.manual_seed(123)
    train_loader = DataLoader(train_dataset, batch_size=6, shuffle=True, drop_last=True)
    test_loader = DataLoader(test_dataset, batch_size=6, shuffle=False, drop_last=False)

    torch.manual_seed(123)
    model = gpt_model.GPTModel(TINY_CONFIG)
    gpt_size = sum(p.numel() for p in model.parameters())
    torch.manual_seed(123)
    if args.lora:  # appendix E: the new head, everything frozen, then an adapter beside every linear layer
        lora = importlib.import_module(f"{args.impl}.lora")
        model.out_head = torch.nn.Linear(TINY_CONFIG["emb_dim"], 2)
        for param in model.parameters():
            param.requires_grad = False
        lora.replace_linear_with_lora(model, rank=8, alpha=16)
        what, lr = "LoRA's A and B (rank 8, alpha 16)", args.lr or 2e-3
    else:
        classification.prepare_for_classification(model, num_classes=2)
        what, lr = "the last block, the final norm and the head", args.lr or 1e-3
    print(f"{trainable(model):,} of {sum(p.numel() for p in model.parameters()):,} parameters train: {what} "
          f"(the tiny GPT had {gpt_size:,}); {len(train_dataset)} messages to train on, {len(test_dataset)} held out, "
          f"padded to {train_dataset.max_length} tokens")

    before = classification.calc_accuracy_loader(test_loader, model, "cpu")
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.1)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        for token_ids, labels in train_loader:
            optimizer.zero_grad()
            loss = classification.calc_loss_batch(token_ids, labels, model, "cpu")
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    train_accuracy = classification.calc_accuracy_loader(train_loader, model, "cpu")
    after = classification.calc_accuracy_loader(test_loader, model, "cpu")
    print(f"fine-tuned for {args.epochs} epochs in {seconds:.1f} s: held-out accuracy {before:.0%} -> {after:.0%} "
          f"(training accuracy {train_accuracy:.0%})")

    for text in ("Congratulations! You won a free prize. Call now to claim it.",
                 "Can we meet at the station after work?"):
        label = classification.classify_review(text, model, tokenizer, "cpu", max_length=train_dataset.max_length)
        print(f"{label:>8}: {text}")


if __name__ == "__main__":
    run(main)
