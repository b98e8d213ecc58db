"""Fine-tuning for classification (book chapter 6).

A GPT pretrained to predict the next token becomes a spam classifier: its output head, one logit
per token of the vocabulary, is replaced by one with a logit per class, and only the last
transformer block, the final LayerNorm and the new head are trained. Texts of different lengths
are padded with the end-of-text id to one length, and the label is read off the last token's
logits: with causal attention, the last position is the only one that has seen the whole text.

The book reads its CSV files with pandas (pd.read_csv), and so does this kata: pandas is one of
the suite's dependencies, so the book's code pastes in. The suite ships its own small data set,
data/sms_tiny.csv (48 messages, columns Label and Text, label 1 for spam); scripts/finetune_tiny.py
fine-tunes the tiny model of scripts/train_tiny.py on it once this topic passes.

Check your work: kata check classification   (or make check TOPIC=classification)
"""

import pandas as pd
import torch
from torch.utils.data import Dataset

from .gpt_model import GPTModel  # noqa: F401  (chapter 4's model: the checks turn it into a classifier)


class SpamDataset(Dataset):
    """Task 1. Labelled texts from a CSV file, every one padded or truncated to one length.

    __init__(csv_file, tokenizer, max_length=None, pad_token_id=50256):
      - self.data = pd.read_csv(csv_file): columns "Label" (an int class) and "Text". csv_file is
        a path or an open file (the checks pass an io.StringIO); pd.read_csv takes either;
      - self.encoded_texts: tokenizer.encode(text) for each text, in order;
      - self.max_length: max_length if given (then each text longer than it keeps its first
        max_length ids), otherwise the length of the longest encoded text
        (self._longest_encoded_length(), over every text, not the first);
      - each text is padded at the end with pad_token_id (50256, GPT-2's <|endoftext|>) up to
        self.max_length.
    __getitem__(index) -> (token ids, label): torch.long tensors of shapes (max_length,) and ().
    __len__() -> the number of rows.

    >>> import io, tiktoken
    >>> tokenizer = tiktoken.get_encoding("gpt2")
    >>> tokenizer.encode("<|endoftext|>", allowed_special={"<|endoftext|>"})
    [50256]
    >>> csv = "Label,Text\\n0,See you at the station at eight.\\n1,WINNER! Claim your free prize now.\\n0,Dinner?\\n"
    >>> dataset = SpamDataset(io.StringIO(csv), tokenizer)
    >>> dataset.max_length, len(dataset)
    (9, 3)
    >>> dataset[2]
    (tensor([   35,  5083,    30, 50256, 50256, 50256, 50256, 50256, 50256]), tensor(0))
    >>> SpamDataset(io.StringIO(csv), tokenizer, max_length=5)[1]
    (tensor([37620, 21479,     0, 22070,   534]), tensor(1))
    """

    def __init__(self, csv_file, tokenizer, max_length=None, pad_token_id=50256):
        raise NotImplementedError("classification task 1: SpamDataset.__init__")

    def __getitem__(self, index):
        raise NotImplementedError("classification task 1: SpamDataset.__getitem__")

    def __len__(self):
        raise NotImplementedError("classification task 1: SpamDataset.__len__")

    def _longest_encoded_length(self):
        raise NotImplementedError("classification task 1: SpamDataset._longest_encoded_length")


def prepare_for_classification(model, num_classes):
    """Task 2. Turn a GPTModel into a classifier, in place, as the book does in section 6.5, and
    return it:
      1. freeze every parameter (requires_grad = False);
      2. replace model.out_head with torch.nn.Linear(in_features=emb_dim, out_features=num_classes)
         (with its bias, nn.Linear's default; emb_dim is the old head's in_features). A layer
         created after the freezing trains;
      3. make the last transformer block (model.trf_blocks[-1]) and the final LayerNorm
         (model.final_norm) trainable again.
    The model's logits then have shape (batch, num_tokens, num_classes).

    For GPT-2 124M (qkv_bias=True), counted on the `meta` device (shapes only, no memory):

    >>> GPT2_124M = {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12,
    ...              "n_layers": 12, "drop_rate": 0.0, "qkv_bias": True}
    >>> with torch.device("meta"):
    ...     model = GPTModel(GPT2_124M)
    ...     sum(p.numel() for p in model.parameters())
    ...     model = prepare_for_classification(model, num_classes=2)
    163037184
    >>> model.out_head
    Linear(in_features=768, out_features=2, bias=True)
    >>> sum(p.numel() for p in model.parameters() if p.requires_grad)  # last block, final norm, head
    7090946
    >>> sum(p.numel() for p in model.parameters())
    124441346
    """
    raise NotImplementedError("classification task 2: prepare_for_classification")


def calc_loss_batch(input_batch, target_batch, model, device):
    """Task 3. The cross-entropy loss of one batch, on the last token's logits.

    input_batch (batch, num_tokens) token ids, target_batch (batch,) class labels. Move both to
    `device`, take model(input_batch)[:, -1, :], shape (batch, num_classes), and return
    torch.nn.functional.cross_entropy of those logits and the labels (a 0-dim tensor).

    >>> torch.manual_seed(123)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> uniform = lambda ids: torch.zeros(ids.shape[0], ids.shape[1], 2)  # every class as likely
    >>> calc_loss_batch(torch.tensor([[5, 6, 7], [8, 9, 10]]), torch.tensor([0, 1]), uniform, "cpu")  # log(2)
    tensor(0.6931)
    """
    raise NotImplementedError("classification task 3: calc_loss_batch")


def calc_loss_loader(data_loader, model, device, num_batches=None):
    """Task 4. The mean of calc_loss_batch over the first num_batches batches of data_loader (every
    batch if None, at most len(data_loader)), as a float; float("nan") for an empty loader.

    >>> batches = [(torch.tensor([[1, 2]]), torch.tensor([0])), (torch.tensor([[3, 4]]), torch.tensor([1]))]
    >>> round(calc_loss_loader(batches, lambda ids: torch.zeros(ids.shape[0], ids.shape[1], 2), "cpu"), 4)
    0.6931
    >>> calc_loss_loader([], None, "cpu")
    nan
    """
    raise NotImplementedError("classification task 4: calc_loss_loader")


def calc_accuracy_loader(data_loader, model, device, num_batches=None):
    """Task 5. The share of examples, over the first num_batches batches (every batch if None, at
    most len(data_loader)), whose predicted label, the argmax of the last token's logits
    (model(input_batch)[:, -1, :], shape (batch, num_classes)), is the target label.

    Put the model in eval mode (dropout off) and compute without gradients. Divide the number of
    right predictions by the number of examples seen, not by the number of batches: the last
    batch may be smaller. A float between 0 and 1.

    >>> class LastIdIsTheClass(torch.nn.Module):  # predicts class = the last token's id
    ...     def forward(self, ids):
    ...         return torch.nn.functional.one_hot(ids, 2).float()
    >>> batches = [(torch.tensor([[0, 1], [1, 0]]), torch.tensor([1, 1])), (torch.tensor([[1, 1]]), torch.tensor([1]))]
    >>> calc_accuracy_loader(batches, LastIdIsTheClass(), "cpu")  # right on the 1st and the 3rd of 3
    0.6666666666666666
    >>> calc_accuracy_loader(batches, LastIdIsTheClass(), "cpu", num_batches=1)
    0.5
    """
    raise NotImplementedError("classification task 5: calc_accuracy_loader")


def classify_review(text, model, tokenizer, device, max_length=None, pad_token_id=50256):
    """Task 6. "spam" or "not spam" for one text, with a model fine-tuned by this chapter.

    Put the model in eval mode. Encode the text and prepare it as the training texts were: with a
    max_length, keep the first min(max_length, context length) ids (the context length is
    model.pos_emb.weight.shape[0]) and pad with pad_token_id up to max_length; with
    max_length=None, only truncate to the context length. Run the model on the ids as a batch of
    one, shape (1, num_tokens), without gradients; the argmax of the last token's logits is the
    label: 1 is "spam", 0 is "not spam".

    >>> class SpamIfLastIdIsOne(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.pos_emb = torch.nn.Embedding(8, 1)  # a context length of 8
    ...     def forward(self, ids):
    ...         return torch.nn.functional.one_hot(ids.clamp(max=1), 2).float()
    >>> class Digits:  # one id per digit
    ...     def encode(self, text):
    ...         return [int(c) for c in text]
    >>> classify_review("31", SpamIfLastIdIsOne(), Digits(), "cpu", max_length=2, pad_token_id=0)
    'spam'
    >>> classify_review("31", SpamIfLastIdIsOne(), Digits(), "cpu", max_length=4, pad_token_id=0)  # 3 1 0 0
    'not spam'
    """
    raise NotImplementedError("classification task 6: classify_review")
