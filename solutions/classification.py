"""Fine-tuning for classification (book chapter 6).

A pretrained GPT becomes a spam classifier: its output head is replaced by one with a logit per
class, and only the last transformer block, the final LayerNorm and the new head train. The
label is read off the last token's logits, the only position that has attended to every token.
"""

import pandas as pd
import torch
from torch.utils.data import Dataset

from .gpt_model import GPTModel  # noqa: F401  (chapter 4's model: the checks turn it into a classifier)


class SpamDataset(Dataset):
    def __init__(self, csv_file, tokenizer, max_length=None, pad_token_id=50256):
        self.data = pd.read_csv(csv_file)
        self.encoded_texts = [tokenizer.encode(text) for text in self.data["Text"]]

        if max_length is None:
            self.max_length = self._longest_encoded_length()
        else:
            self.max_length = max_length
            # Too long: keep the beginning, as the book does.
            self.encoded_texts = [encoded_text[:self.max_length] for encoded_text in self.encoded_texts]

        # Every text as long as the longest: end-of-text ids fill the rest.
        self.encoded_texts = [
            encoded_text + [pad_token_id] * (self.max_length - len(encoded_text))
            for encoded_text in self.encoded_texts
        ]

    def __getitem__(self, index):
        encoded = self.encoded_texts[index]
        label = self.data.iloc[index]["Label"]
        return torch.tensor(encoded, dtype=torch.long), torch.tensor(label, dtype=torch.long)

    def __len__(self):
        return len(self.data)

    def _longest_encoded_length(self):
        return max(len(encoded_text) for encoded_text in self.encoded_texts)


def prepare_for_classification(model, num_classes):
    for param in model.parameters():
        param.requires_grad = False  # the pretrained weights stay as they are...

    emb_dim = model.out_head.in_features
    # ...a new head, created after the freezing so that it trains: (b, n, emb_dim) -> (b, n, num_classes)
    model.out_head = torch.nn.Linear(in_features=emb_dim, out_features=num_classes)

    # ...and the last transformer block and the final LayerNorm train with it.
    for param in model.trf_blocks[-1].parameters():
        param.requires_grad = True
    for param in model.final_norm.parameters():
        param.requires_grad = True
    return model


def calc_loss_batch(input_batch, target_batch, model, device):
    input_batch, target_batch = input_batch.to(device), target_batch.to(device)
    logits = model(input_batch)[:, -1, :]  # (b, num_tokens, num_classes) -> (b, num_classes): the last token's
    loss = torch.nn.functional.cross_entropy(logits, target_batch)
    return loss


def calc_loss_loader(data_loader, model, device, num_batches=None):
    total_loss = 0.0
    if len(data_loader) == 0:
        return float("nan")
    elif num_batches is None:
        num_batches = len(data_loader)
    else:
        num_batches = min(num_batches, len(data_loader))
    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i >= num_batches:
            break
        total_loss += calc_loss_batch(input_batch, target_batch, model, device).item()
    return total_loss / num_batches


def calc_accuracy_loader(data_loader, model, device, num_batches=None):
    model.eval()
    correct_predictions, num_examples = 0, 0
    if num_batches is None:
        num_batches = len(data_loader)
    else:
        num_batches = min(num_batches, len(data_loader))
    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i >= num_batches:
            break
        input_batch, target_batch = input_batch.to(device), target_batch.to(device)
        with torch.no_grad():
            logits = model(input_batch)[:, -1, :]  # (b, num_tokens, num_classes) -> (b, num_classes)
        predicted_labels = torch.argmax(logits, dim=-1)  # (b, num_classes) -> (b,)
        num_examples += predicted_labels.shape[0]  # the last batch may be smaller
        correct_predictions += (predicted_labels == target_batch).sum().item()
    return correct_predictions / num_examples


def classify_review(text, model, tokenizer, device, max_length=None, pad_token_id=50256):
    model.eval()
    input_ids = tokenizer.encode(text)
    supported_context_length = model.pos_emb.weight.shape[0]
    if max_length is None:
        max_length = supported_context_length
        input_ids = input_ids[:max_length]  # no padding: nothing to line up with
    else:
        input_ids = input_ids[:min(max_length, supported_context_length)]
        input_ids += [pad_token_id] * (max_length - len(input_ids))  # as the training texts were padded

    input_tensor = torch.tensor(input_ids, device=device).unsqueeze(0)  # (num_tokens,) -> (1, num_tokens)
    with torch.no_grad():
        logits = model(input_tensor)[:, -1, :]  # (1, num_tokens, num_classes) -> (1, num_classes)
    predicted_label = torch.argmax(logits, dim=-1).item()
    return "spam" if predicted_label == 1 else "not spam"
