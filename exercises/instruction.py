"""Instruction data: prompts, batches and masked targets (book sections 7.2-7.4).

Instruction fine-tuning trains a pretrained GPT to follow instructions on entries such as

    {"instruction": "Give a synonym for the word.", "input": "harbour",
     "output": "A synonym for harbour is port."}

Each entry is written out as one text in the Alpaca style: a prompt (task 1), then the response
(task 2). Texts of one batch differ in length, so the batch is padded with the end-of-text id
50256; the model must learn to end its answer (the first end-of-text id is a target) but not to
predict padding, so every later padding target becomes -100 (task 3), which the loss skips
(task 4).

The suite ships a small data set written for this project, data/instructions.json (36 entries,
24 of them with an input), in the book's format.

Check your work: kata check instruction   (or make check TOPIC=instruction)
"""

import torch
from torch.utils.data import Dataset


def format_input(entry: dict) -> str:
    """Task 1. The prompt for one entry (a dict with the keys "instruction", "input", "output"):

        Below is an instruction that describes a task. Write a response that appropriately completes the request.
        (blank line)
        ### Instruction:
        <entry["instruction"]>
        (blank line)
        ### Input:
        <entry["input"]>

    The preamble is one line, two sentences with one space between them. Sections are separated
    by a blank line ("\\n\\n" before each "###"). The "### Input:" section is there only when
    entry["input"] is not empty; the output is not part of the prompt.

    >>> entry = {"instruction": "Give a synonym for the word.", "input": "harbour",
    ...          "output": "A synonym for harbour is port."}
    >>> print(format_input(entry))
    Below is an instruction that describes a task. Write a response that appropriately completes the request.
    <BLANKLINE>
    ### Instruction:
    Give a synonym for the word.
    <BLANKLINE>
    ### Input:
    harbour
    >>> format_input({"instruction": "Name a colour.", "input": "", "output": "Red."})[-33:]
    '\\n\\n### Instruction:\\nName a colour.'
    """
    raise NotImplementedError("instruction task 1: format_input")


class InstructionDataset(Dataset):
    """Task 2. The entries of `data` (a list of dicts), tokenized once, in __init__.

    __init__ keeps `data` as self.data and, for each entry, encodes with tokenizer.encode the
    whole text: format_input(entry) followed by the response section,

        "\\n\\n### Response:\\n" + entry["output"]

    and keeps the list of ids in self.encoded_texts. __getitem__(index) returns the list of ids of
    entry `index` (a plain Python list: custom_collate_fn pads it); __len__ the number of entries.

    >>> import json, tiktoken
    >>> with open("data/instructions.json", encoding="utf-8") as file:
    ...     data = json.load(file)
    >>> tokenizer = tiktoken.get_encoding("gpt2")
    >>> dataset = InstructionDataset(data, tokenizer)
    >>> len(dataset)
    36
    >>> dataset[1][:5]
    [21106, 318, 281, 12064, 326]
    >>> text = tokenizer.decode(dataset[1])
    >>> print(text[text.index("###"):])
    ### Instruction:
    Give a synonym for the word.
    <BLANKLINE>
    ### Input:
    harbour
    <BLANKLINE>
    ### Response:
    A synonym for harbour is port.
    """

    def __init__(self, data, tokenizer):
        raise NotImplementedError("instruction task 2: InstructionDataset.__init__")

    def __getitem__(self, index):
        raise NotImplementedError("instruction task 2: InstructionDataset.__getitem__")

    def __len__(self):
        raise NotImplementedError("instruction task 2: InstructionDataset.__len__")


def custom_collate_fn(batch, pad_token_id=50256, ignore_index=-100, allowed_max_length=None,
                      device="cpu"):
    """Task 3. Turn a list of token-id lists of different lengths into a batch of inputs and
    targets for the loss. For each list `item`, without changing `item` itself (it belongs to
    the dataset):

      1. append pad_token_id (the end-of-text id), then pad with pad_token_id to the length of
         the longest item plus one, batch_max_length = max(len(item) + 1 for item in batch);
      2. inputs = all but the last id, targets = all but the first (the next token);
      3. in targets, keep the first pad_token_id (the model learns to end its answer) and
         replace every later one with ignore_index;
      4. if allowed_max_length is given, keep the first allowed_max_length ids of the inputs and
         of the targets (truncate after shifting).

    Return (inputs_tensor, targets_tensor), each of shape (batch, num_tokens) and dtype int64,
    moved to `device`, with num_tokens = batch_max_length - 1 (or allowed_max_length if smaller).

    The book's example:

    >>> inputs_1 = [0, 1, 2, 3, 4]
    >>> inputs_2 = [5, 6]
    >>> inputs_3 = [7, 8, 9]
    >>> batch = (inputs_1, inputs_2, inputs_3)
    >>> inputs, targets = custom_collate_fn(batch)
    >>> inputs
    tensor([[    0,     1,     2,     3,     4],
            [    5,     6, 50256, 50256, 50256],
            [    7,     8,     9, 50256, 50256]])
    >>> targets
    tensor([[    1,     2,     3,     4, 50256],
            [    6, 50256,  -100,  -100,  -100],
            [    8,     9, 50256,  -100,  -100]])
    >>> custom_collate_fn(batch, allowed_max_length=3)[1]
    tensor([[    1,     2,     3],
            [    6, 50256,  -100],
            [    8,     9, 50256]])

    With a DataLoader, the other arguments fixed by functools.partial:

    >>> from functools import partial
    >>> from torch.utils.data import DataLoader
    >>> collate = partial(custom_collate_fn, device="cpu", allowed_max_length=1024)
    >>> loader = DataLoader(dataset, batch_size=8, shuffle=False, collate_fn=collate)
    >>> inputs, targets = next(iter(loader))
    >>> inputs.shape, targets.shape
    (torch.Size([8, 67]), torch.Size([8, 67]))
    """
    raise NotImplementedError("instruction task 3: custom_collate_fn")


def calc_loss_batch(input_batch, target_batch, model, device):
    """Task 4. The loss of a batch that custom_collate_fn made: the mean cross-entropy over the
    positions whose target is not -100. Positions with target -100 (padding) must not count, in
    the sum nor in the number of positions the mean divides by.

    Move both batches to device, logits = model(input_batch), then
    torch.nn.functional.cross_entropy on the flattened logits (b * num_tokens, vocab_size) and
    targets (b * num_tokens,): its default ignore_index=-100 skips exactly those positions, so
    chapter 5's calc_loss_batch already does this. Returns a 0-dim tensor.

    The book's numbers: a third position with target -100 leaves the loss of the first two.

    >>> logits_1 = torch.tensor([[-1.0, 1.0], [-0.5, 1.5]])
    >>> targets_1 = torch.tensor([0, 1])
    >>> torch.nn.functional.cross_entropy(logits_1, targets_1)
    tensor(1.1269)
    >>> logits_2 = torch.tensor([[-1.0, 1.0], [-0.5, 1.5], [-0.5, 1.5]])
    >>> targets_2 = torch.tensor([0, 1, 1])
    >>> torch.nn.functional.cross_entropy(logits_2, targets_2)
    tensor(0.7936)
    >>> targets_3 = torch.tensor([0, 1, -100])
    >>> torch.nn.functional.cross_entropy(logits_2, targets_3)
    tensor(1.1269)

    The same with calc_loss_batch, for a "model" that gives logits_2 whatever the input ids:

    >>> model = lambda input_batch: logits_2.unsqueeze(0)  # (1, 3, 2): a batch of one
    >>> calc_loss_batch(torch.tensor([[7, 8, 9]]), targets_3.unsqueeze(0), model, "cpu")
    tensor(1.1269)
    """
    raise NotImplementedError("instruction task 4: calc_loss_batch")
