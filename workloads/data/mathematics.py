"""The Mathematics Dataset (Saxton et al. 2019), paper E4: one module, three difficulties.

Data comes from the released v1.0 files (`path`: a folder holding train-easy/,
train-medium/ and train-hard/, each with `<module>.txt`, question and answer on
alternating lines) or, with `generate: true`, from the `mathematics-dataset` package.

Splits (paper E4): from each difficulty, `samples_per_difficulty` distinct questions drawn
with `data_seed` are that difficulty's test set; every pair whose question is in any test
set is removed from every training set, so no test question is trained on.

Target functions, each a training set and an evaluation set:
- "all" (control): trains on easy + medium + hard; evaluates on the hard test set, the
  paper's reported number;
- "easy", "medium", "hard": train on that difficulty, evaluate on its own test set.
E4 fits masks for [all, easy]; the evaluation job evaluates every mask on every target
function, so the easy-only mask's hard-test accuracy is the row evaluated on "hard" (or
"all"), and the easy and medium test sets are there as well.

Tokens are characters (printable ASCII); source and target share one vocabulary, as the
tied output layer of the E4 Transformer needs.
"""

from __future__ import annotations

import random
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Literal, get_args

import torch
from pydantic import Field, model_validator

from workloads.data import seq2seq
from workloads.data.base import Examples, ModelCall, StepResult, TaskConfig, check_target
from workloads.data.mathematics_generator import DIFFICULTIES, INSTALL_HINT, generate_pairs

Pair = tuple[str, str]  # (question, answer)
Module = Literal[
    "arithmetic__add_or_sub",
    "algebra__linear_1d",
    "calculus__differentiate",
    "comparison__sort",
    "polynomials__collect",
]
MODULES: tuple[str, ...] = get_args(Module)
CHARACTERS = tuple(chr(code) for code in range(32, 127))  # printable ASCII, space included
VOCABULARY = seq2seq.Vocabulary(CHARACTERS)
ENCODE_CHUNK = 50_000  # pairs encoded as int64 at a time before shrinking to uint8


class MathematicsConfig(TaskConfig):
    name: Literal["mathematics"] = "mathematics"
    module: Module = Field(description="one network per module (paper E4)")
    path: str | None = Field(
        None, description="folder with train-easy/, train-medium/, train-hard/<module>.txt (v1.0)"
    )
    generate: bool = Field(
        False, description="generate the data with the mathematics-dataset package instead"
    )
    generated_per_difficulty: int = Field(
        20_000, gt=0, description="generate mode: pairs per difficulty (release: 666,666)"
    )
    samples_per_difficulty: int = Field(
        10_000, gt=0, description="test samples drawn from each difficulty (paper: 10,000)"
    )
    data_seed: int = Field(0, description="seed of the test draw (and of generation)")
    teacher_forcing_probability: float = Field(
        1.0, ge=0, le=1, description="per training step call (Transformer: always)"
    )
    teacher_forcing_seed: int = 0

    @model_validator(mode="after")
    def _one_source(self) -> MathematicsConfig:
        if self.path is None and not self.generate:
            raise ValueError(
                f"give task.path, a folder with train-easy/{self.module}.txt, "
                f"train-medium/{self.module}.txt and train-hard/{self.module}.txt from the "
                f"released mathematics_dataset-v1.0, or set task.generate: true ({INSTALL_HINT})"
            )
        if self.path is not None and self.generate:
            raise ValueError("give either task.path or task.generate: true, not both")
        if self.generate and self.generated_per_difficulty <= self.samples_per_difficulty:
            raise ValueError(
                f"generated_per_difficulty ({self.generated_per_difficulty}) must exceed "
                f"samples_per_difficulty ({self.samples_per_difficulty}) to leave training data"
            )
        return self

    def target_functions(self) -> tuple[str, ...]:
        return ("all", *DIFFICULTIES)

    def build(self) -> MathematicsTask:
        return MathematicsTask(self)


def read_pairs(file: Path) -> list[Pair]:
    """(question, answer) pairs of a released file: question and answer lines alternate."""
    if not file.is_file():
        raise FileNotFoundError(
            f"{file}: not found; task.path must hold train-easy/, train-medium/ and "
            "train-hard/ of the released mathematics_dataset-v1.0 (or use task.generate)"
        )
    lines = file.read_text(encoding="utf-8").splitlines()
    if len(lines) % 2:
        raise ValueError(f"{file}: odd number of lines; expected question/answer pairs")
    return list(zip(lines[0::2], lines[1::2], strict=True))


def load_pairs(config: MathematicsConfig) -> dict[str, list[Pair]]:
    """Each difficulty's pairs, from the files or from the generator."""
    if config.generate:
        return {
            difficulty: generate_pairs(
                config.module,
                difficulty,
                config.generated_per_difficulty,
                seed=config.data_seed * len(DIFFICULTIES) + level,
            )
            for level, difficulty in enumerate(DIFFICULTIES)
        }
    folder = Path(config.path or "")
    return {
        difficulty: read_pairs(folder / f"train-{difficulty}" / f"{config.module}.txt")
        for difficulty in DIFFICULTIES
    }


def split(
    pairs: dict[str, list[Pair]], samples: int, seed: int
) -> tuple[dict[str, list[Pair]], dict[str, list[Pair]]]:
    """(train, test) per difficulty; test questions are distinct and never trained on."""
    rng = random.Random(seed)
    tested: set[str] = set()
    test = {}
    for difficulty in DIFFICULTIES:
        first_answer: dict[str, str] = {}  # question -> its first answer, in file order
        for question, answer in pairs[difficulty]:
            first_answer.setdefault(question, answer)
        candidates = [question for question in first_answer if question not in tested]
        if len(candidates) <= samples:
            raise ValueError(
                f"train-{difficulty}: {len(candidates)} distinct questions, not more than "
                f"samples_per_difficulty={samples}; lower it or give more data"
            )
        chosen = rng.sample(candidates, samples)
        tested.update(chosen)
        test[difficulty] = [(question, first_answer[question]) for question in chosen]
    train = {
        difficulty: [pair for pair in pairs[difficulty] if pair[0] not in tested]
        for difficulty in DIFFICULTIES
    }
    return train, test


def encode(pairs: list[Pair], source_width: int, target_width: int) -> Examples:
    """Character tokens as uint8 (a fifth of int64's memory for the 2M released pairs)."""
    parts = []
    for start in range(0, len(pairs), ENCODE_CHUNK):
        chunk = [(list(q), list(a)) for q, a in pairs[start : start + ENCODE_CHUNK]]
        examples = seq2seq.encode_pairs(chunk, VOCABULARY, VOCABULARY)
        for key, width in (("source", source_width), ("target", target_width)):
            padding = width - examples[key].shape[1]
            examples[key] = torch.nn.functional.pad(examples[key], (0, padding)).to(torch.uint8)
        parts.append(examples)
    return {key: torch.cat([part[key] for part in parts]) for key in parts[0]}


class MathematicsTask:
    def __init__(self, config: MathematicsConfig) -> None:
        self.config = config
        self.target_functions = config.target_functions()
        train, test = split(load_pairs(config), config.samples_per_difficulty, config.data_seed)
        everything = [pair for part in (train, test) for d in DIFFICULTIES for pair in part[d]]
        source_width = 1 + max(len(question) for question, _ in everything)  # + EOS
        target_width = 1 + max(len(answer) for _, answer in everything)
        # Each table holds the difficulties in order; a difficulty is a slice (a view).
        self._train = encode(
            [p for d in DIFFICULTIES for p in train[d]], source_width, target_width
        )
        self._test = encode([p for d in DIFFICULTIES for p in test[d]], source_width, target_width)
        self._train_rows = _slices({d: len(train[d]) for d in DIFFICULTIES})
        self._test_rows = _slices({d: len(test[d]) for d in DIFFICULTIES})
        self.shape = {
            "source_vocabulary_size": VOCABULARY.size,
            "target_vocabulary_size": VOCABULARY.size,
            "max_source_length": source_width,
            "max_target_length": target_width,
        }
        self._teacher_forcing = seq2seq.TeacherForcing(
            config.teacher_forcing_probability, config.teacher_forcing_seed
        )
        self.generators = {"teacher_forcing": self._teacher_forcing.generator}

    def train_examples(self, target: str) -> Examples:
        check_target(self, target)
        if target == "all":
            return self._train
        return _rows(self._train, self._train_rows[target])

    def eval_examples(self, target: str) -> Examples:
        check_target(self, target)
        return _rows(self._test, self._test_rows["hard" if target == "all" else target])

    def one_batch(self) -> AbstractContextManager[None]:
        """Step calls inside share one teacher-forcing coin (`base.one_batch`)."""
        return self._teacher_forcing.one_flip()

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        tokens = {**batch, "source": batch["source"].long(), "target": batch["target"].long()}
        return seq2seq.step(call, tokens, self._teacher_forcing(train))


def _slices(sizes: dict[str, int]) -> dict[str, slice]:
    rows, start = {}, 0
    for name, size in sizes.items():
        rows[name] = slice(start, start + size)
        start += size
    return rows


def _rows(examples: Examples, rows: slice) -> Examples:
    return {key: value[rows] for key, value in examples.items()}
