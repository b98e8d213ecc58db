"""Saving and loading a model and its optimizer (book section 5.4).

Pretraining costs hours, so its result is kept in a file. For inference the model's weights are
enough; to resume training the file must also hold the optimizer's state: AdamW keeps, for every
parameter, moving averages of its gradients and a step count, and a fresh optimizer would start
those from zero, so the resumed run would no longer be the run that was interrupted.
"""

import torch


def save_checkpoint(model, optimizer, path) -> None:
    # State dicts hold only tensors and plain values: torch.load(..., weights_only=True) can read
    # them back without running any code stored in the file.
    torch.save(
        {
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
        },
        path,
    )


def load_checkpoint(model, optimizer, path) -> None:
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    model.train()  # training resumes: dropout on again, as in the interrupted run


def load_for_inference(model, path, device="cpu"):
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    model.to(device)
    model.eval()  # dropout off: the same input gives the same logits
    return model
