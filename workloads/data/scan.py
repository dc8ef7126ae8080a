"""SCAN (Lake & Baroni 2018), paper E3: commands to action sequences, generated offline.

The grammar is small enough to enumerate: 4 primitives (walk, look, run, jump) and
"turn" with left/right, "opposite" and "around"; "twice"/"thrice"; "and"/"after".
That yields exactly the 20,910 commands of the official data set. The standard splits
are rebuilt by their rules (the simple split by a seeded random 80/20 cut) and match the
official files' train/test sets as multisets; the tests check that against the files.
"""

from __future__ import annotations

import random
from contextlib import AbstractContextManager
from itertools import product
from typing import Literal

import torch
from pydantic import Field

from workloads.data import seq2seq
from workloads.data.base import Examples, ModelCall, StepResult, TaskConfig, check_target

Pair = tuple[str, str]  # (command, actions), words separated by single spaces

PRIMITIVES = {"walk": "I_WALK", "look": "I_LOOK", "run": "I_RUN", "jump": "I_JUMP"}
TURNS = {"left": "I_TURN_LEFT", "right": "I_TURN_RIGHT"}
SOURCE_WORDS = (
    "walk", "look", "run", "jump", "turn", "left", "right", "opposite", "around",
    "twice", "thrice", "and", "after",
)  # fmt: skip
TARGET_WORDS = ("I_WALK", "I_LOOK", "I_RUN", "I_JUMP", "I_TURN_LEFT", "I_TURN_RIGHT")
SPLITS = ("simple", "addprim_jump", "length", "addprim_turn_left", "around_right")

TEST_FRACTION = 0.2  # simple split: random 80/20
LENGTH_TRAIN_MAX_ACTIONS = 22  # length split: longer outputs are test only
PRIMITIVE_SHARE = 10  # add-primitive splits: the primitive is 1/10 of the train file


def verb_phrases() -> list[tuple[str, list[str]]]:
    """The grammar's V: "u", "u d", "u opposite d", "u around d" with their actions."""
    phrases: list[tuple[str, list[str]]] = [(verb, [action]) for verb, action in PRIMITIVES.items()]
    for verb, direction in product((*PRIMITIVES, "turn"), TURNS):
        turn = TURNS[direction]
        act = [] if verb == "turn" else [PRIMITIVES[verb]]
        phrases.append((f"{verb} {direction}", [turn, *act]))
        phrases.append((f"{verb} opposite {direction}", [turn, turn, *act]))
        phrases.append((f"{verb} around {direction}", [turn, *act] * 4))
    return phrases


def commands() -> list[Pair]:
    """All 20,910 SCAN commands with their action sequences, in a fixed order."""
    simple = []  # the grammar's S: V, "V twice", "V thrice"
    for phrase, actions in verb_phrases():
        simple += [(phrase, actions), (f"{phrase} twice", actions * 2)]
        simple.append((f"{phrase} thrice", actions * 3))
    pairs = [(command, actions) for command, actions in simple]
    for (first, first_actions), (second, second_actions) in product(simple, simple):
        pairs.append((f"{first} and {second}", first_actions + second_actions))
        pairs.append((f"{first} after {second}", second_actions + first_actions))
    return [(command, " ".join(actions)) for command, actions in pairs]


def add_primitive_split(pairs: list[Pair], primitive: str) -> tuple[list[Pair], list[Pair]]:
    """Test: every command using `primitive` except the bare primitive itself.

    The official train file repeats the bare primitive until it is a tenth of the file.
    """

    def uses(command: str) -> bool:  # whole words: "turn left" is not in "turn lefty"
        return f" {primitive} " in f" {command} "

    bare = [pair for pair in pairs if pair[0] == primitive]
    test = [pair for pair in pairs if uses(pair[0]) and pair[0] != primitive]
    rest = [pair for pair in pairs if not uses(pair[0])]
    repeats = round(len(rest) / (PRIMITIVE_SHARE - 1))
    return rest + bare * repeats, test


def split(pairs: list[Pair], name: str, seed: int) -> tuple[list[Pair], list[Pair]]:
    """The named split's (train, test) pairs; `seed` only affects the random simple split."""
    if name == "simple":
        shuffled = list(pairs)
        random.Random(seed).shuffle(shuffled)
        test_size = round(TEST_FRACTION * len(shuffled))
        return shuffled[test_size:], shuffled[:test_size]
    if name == "length":
        short = [pair for pair in pairs if len(pair[1].split()) <= LENGTH_TRAIN_MAX_ACTIONS]
        long = [pair for pair in pairs if len(pair[1].split()) > LENGTH_TRAIN_MAX_ACTIONS]
        return short, long
    if name == "addprim_jump":
        return add_primitive_split(pairs, "jump")
    if name == "addprim_turn_left":
        return add_primitive_split(pairs, "turn left")
    if name == "around_right":
        # Template split (Loula et al. 2018): "x around right" is held out for the four
        # primitives; commands with "turn around right" are in neither file.
        kept = [pair for pair in pairs if "turn around right" not in pair[0]]
        train = [pair for pair in kept if "around right" not in pair[0]]
        test = [pair for pair in kept if "around right" in pair[0]]
        return train, test
    raise ValueError(f"unknown SCAN split {name!r}; valid: {', '.join(SPLITS)}")


SOURCE_VOCABULARY = seq2seq.Vocabulary(SOURCE_WORDS)
TARGET_VOCABULARY = seq2seq.Vocabulary(TARGET_WORDS)


def encode(pairs: list[Pair]) -> Examples:
    tokenized = [(command.split(), actions.split()) for command, actions in pairs]
    return seq2seq.encode_pairs(tokenized, SOURCE_VOCABULARY, TARGET_VOCABULARY)


def rows(examples: Examples, pairs: list[Pair], row_of: dict[Pair, int]) -> Examples:
    index = torch.tensor([row_of[pair] for pair in pairs], dtype=torch.long)
    return {key: value[index] for key, value in examples.items()}


class ScanConfig(TaskConfig):
    name: Literal["scan"] = "scan"
    teacher_forcing_probability: float = Field(
        0.5, ge=0, le=1, description="per training step call (paper: LSTM 0.5, Transformer 1)"
    )
    teacher_forcing_seed: int = Field(0, description="seed of the teacher-forcing coin flips")
    data_seed: int = Field(0, description="seed of the random simple split, shared by all runs")

    def target_functions(self) -> tuple[str, ...]:
        return SPLITS

    def build(self) -> ScanTask:
        return ScanTask(self)


class ScanTask:
    """Target function = split: train on its train set, evaluate on its test set."""

    # the token of each row of a decoder output layer, for the removed-per-token statistic
    output_tokens = (*seq2seq.SPECIAL_TOKENS, *TARGET_WORDS)
    # the rows that are ever a target (the six actions and EOS): the loss ignores PAD and
    # SOS is only ever an input, so their rows count in no per-token statistic (C8)
    target_tokens = (seq2seq.SPECIAL_TOKENS[seq2seq.EOS], *TARGET_WORDS)

    def __init__(self, config: ScanConfig) -> None:
        self.config = config
        self.target_functions = config.target_functions()
        pairs = commands()
        # Encode every command once; a split is rows of that table (repeats included).
        everything = encode(pairs)
        row_of = {pair: row for row, pair in enumerate(pairs)}
        self._splits: dict[str, tuple[Examples, Examples]] = {}
        for name in self.target_functions:
            train, test = split(pairs, name, config.data_seed)
            self._splits[name] = (rows(everything, train, row_of), rows(everything, test, row_of))
        self.shape = {
            "source_vocabulary_size": SOURCE_VOCABULARY.size,
            "target_vocabulary_size": TARGET_VOCABULARY.size,
            "max_source_length": everything["source"].shape[1],
            "max_target_length": everything["target"].shape[1],
        }
        self._teacher_forcing = seq2seq.TeacherForcing(
            config.teacher_forcing_probability, config.teacher_forcing_seed
        )
        self.generators = {"teacher_forcing": self._teacher_forcing.generator}

    def train_examples(self, target: str) -> Examples:
        check_target(self, target)
        return self._splits[target][0]

    def eval_examples(self, target: str) -> Examples:
        check_target(self, target)
        return self._splits[target][1]

    def one_batch(self) -> AbstractContextManager[None]:
        """Step calls inside share one teacher-forcing coin (`base.one_batch`)."""
        return self._teacher_forcing.one_flip()

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        return seq2seq.step(call, batch, self._teacher_forcing(train))
