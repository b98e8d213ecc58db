"""Saving and loading a model and its optimizer (book section 5.4).

A trained model is kept in a file with torch.save and read back with torch.load. For inference the
model's weights (its state_dict) are enough; to resume training, save the optimizer's state_dict
as well: AdamW keeps moving averages of every parameter's gradients, and a fresh optimizer would
start them from zero. Read files back with torch.load(path, weights_only=True), which loads
tensors and plain values but runs no code stored in the file.

The examples below share one file in a temporary directory:

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "model_and_optimizer.pth")

Check your work: kata check save_load   (or make check TOPIC=save_load)
"""

import torch


def save_checkpoint(model, optimizer, path) -> None:
    """Task 1. Save the model's and the optimizer's state to `path` with torch.save, as one dict
    with the book's two keys:

        {"model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()}

    Save state dicts, not the model or the optimizer objects themselves: torch.load(path,
    weights_only=True) reads only tensors and plain Python values. More entries beside these two
    (an epoch number, a config) do no harm; the examples here save only the two.

    >>> model = torch.nn.Linear(3, 2)
    >>> optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    >>> save_checkpoint(model, optimizer, path)
    >>> sorted(torch.load(path, weights_only=True))
    ['model_state_dict', 'optimizer_state_dict']
    """
    raise NotImplementedError("save_load task 1: save_checkpoint")


def load_checkpoint(model, optimizer, path) -> None:
    """Task 2. Resume training from a checkpoint that save_checkpoint wrote: read it with
    torch.load(path, weights_only=True), load each state dict into `model` and `optimizer` (which
    the caller created, the optimizer over model.parameters()), then put the model in training
    mode with model.train(), as the book does. Both are loaded in place; return nothing.

    Resumed this way, training continues exactly as if it had never stopped: the next losses are
    the uninterrupted run's.

    >>> model = torch.nn.Linear(3, 2)
    >>> optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    >>> load_checkpoint(model, optimizer, path)
    >>> model.training
    True
    """
    raise NotImplementedError("save_load task 2: load_checkpoint")


def load_for_inference(model, path, device="cpu"):
    """Task 3. Load the model's weights from a checkpoint that save_checkpoint wrote, to generate
    text rather than train: torch.load(path, map_location=device, weights_only=True), load its
    "model_state_dict" into `model`, move the model to `device`, switch dropout off with
    model.eval(), and return the model.

    >>> model = load_for_inference(torch.nn.Linear(3, 2), path)
    >>> model.training
    False
    """
    raise NotImplementedError("save_load task 3: load_for_inference")
