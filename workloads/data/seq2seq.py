"""Shared pieces of the sequence-to-sequence tasks (SCAN, the Mathematics Dataset).

Examples are dicts of padded token tensors:
- "source": Long[N, S], the input tokens then EOS, padded with PAD (0);
- "source_length": Long[N], tokens including EOS;
- "target": Long[N, T], the output tokens then EOS, padded with PAD;
- "target_length": Long[N], tokens including EOS.

A model is called as `call(source, source_length, target, teacher_forcing) -> logits
[B, T, V]` with T = target.shape[1]. With teacher forcing the decoder reads the true
previous token; without, it decodes greedily for T steps from its own predictions, and
`target` only gives the length. The loss is the token cross-entropy summed over the
non-pad target positions and divided by the batch size (paper section 3); an example is
correct when the whole output up to and including EOS matches exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain

import torch
import torch.nn.functional as F

from workloads.data.base import Examples, ModelCall, StepResult

PAD, SOS, EOS = 0, 1, 2
SPECIAL_TOKENS = ("<pad>", "<sos>", "<eos>")


@dataclass(frozen=True)
class Vocabulary:
    """Token ids: 0 = PAD, 1 = SOS, 2 = EOS, then `words` in the given order.

    The word order is fixed by the task (not by the data's order), so ids are the same in
    every run and every split.
    """

    words: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {word: len(SPECIAL_TOKENS) + i for i, word in enumerate(self.words)}
        if len(index) != len(self.words):
            raise ValueError(f"vocabulary words must be unique, got {self.words}")
        object.__setattr__(self, "_index", index)

    @property
    def size(self) -> int:
        return len(SPECIAL_TOKENS) + len(self.words)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Token ids of `tokens` followed by EOS."""
        try:
            return [self._index[token] for token in tokens] + [EOS]
        except KeyError as error:
            raise ValueError(f"token {error.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Words up to (not including) the first EOS; PAD and SOS are skipped."""
        words = []
        for token in ids:
            if token == EOS:
                break
            if token >= len(SPECIAL_TOKENS):
                words.append(self.words[token - len(SPECIAL_TOKENS)])
        return words


def pad(sequences: Sequence[Sequence[int]]) -> torch.Tensor:
    """Token lists -> Long[N, longest] padded with PAD."""
    lengths = torch.tensor([len(sequence) for sequence in sequences], dtype=torch.long)
    tokens = torch.tensor(list(chain.from_iterable(sequences)), dtype=torch.long)
    padded = torch.full((len(sequences), int(lengths.max())), PAD, dtype=torch.long)
    # Row-major boolean fill puts the flat tokens in order, row by row (fast for 100k rows).
    padded[torch.arange(padded.shape[1]) < lengths[:, None]] = tokens
    return padded


def encode_pairs(
    pairs: Sequence[tuple[Sequence[str], Sequence[str]]],
    source_vocabulary: Vocabulary,
    target_vocabulary: Vocabulary,
) -> Examples:
    """(source tokens, target tokens) pairs -> the examples dict described above."""
    sources = [source_vocabulary.encode(source) for source, _ in pairs]
    targets = [target_vocabulary.encode(target) for _, target in pairs]
    return {
        "source": pad(sources),
        "source_length": torch.tensor([len(s) for s in sources], dtype=torch.long),
        "target": pad(targets),
        "target_length": torch.tensor([len(t) for t in targets], dtype=torch.long),
    }


class TeacherForcing:
    """Decides per batch whether the decoder reads the true previous tokens.

    Training uses teacher forcing with `probability` (one coin flip per batch, from the
    task's own seeded generator so runs repeat); evaluation never does (greedy decoding).
    A training step call flips its own coin, except inside `one_flip()`: a mask fit runs
    its batch as K slices (and a batched fit several fits' batches) in one step, and every
    call there reads the coin flipped on entry.
    """

    def __init__(self, probability: float, seed: int) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"teacher forcing probability must be in [0, 1], got {probability}")
        self.probability = probability
        self.generator = torch.Generator().manual_seed(seed)
        self._held: bool | None = None

    def __call__(self, train: bool) -> bool:
        if not train:
            return False
        return self._flip() if self._held is None else self._held

    @contextmanager
    def one_flip(self) -> Iterator[None]:
        """One coin for every training call inside (an inner `one_flip` keeps the outer's)."""
        if self._held is not None:
            yield
            return
        self._held = self._flip()
        try:
            yield
        finally:
            self._held = None

    def _flip(self) -> bool:
        return bool(torch.rand((), generator=self.generator) < self.probability)


def step(call: ModelCall, batch: Examples, teacher_forcing: bool) -> StepResult:
    """Sequence loss (summed over tokens, mean over the batch) and exact-match correctness.

    The batch is first cut to its longest source and target, so a batch of short
    sequences does not decode the padding of the longest sequence in the data set.
    """
    source_width = int(batch["source_length"].max())
    target_width = int(batch["target_length"].max())
    source = batch["source"][:, :source_width]
    target = batch["target"][:, :target_width]
    logits = call(source, batch["source_length"], target, teacher_forcing)  # [B, T, V]
    loss = (
        F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            target.reshape(-1),
            ignore_index=PAD,
            reduction="sum",
        )
        / target.shape[0]
    )
    is_pad = target == PAD
    correct = ((logits.argmax(-1) == target) | is_pad).all(dim=1)
    return StepResult(loss=loss, correct=correct)
