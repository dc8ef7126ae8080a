"""Generate Mathematics Dataset questions offline with the `mathematics-dataset` package.

The package (pip `mathematics-dataset==1.0.1`, extra `mathematics` of this project) was
written for numpy 1 and sympy < 1.6. Three things moved since, and `_patch_package`
fixes them at import time without editing the installed files:
- `sympy.solvers.diophantine.base_solution_linear` now lives in the submodule
  `sympy.solvers.diophantine.diophantine`;
- `ndarray.itemset` is gone (numpy 2): the polynomial sampler gets arrays that have it;
- `np.object` is gone (numpy 1.24): the polynomial sampler gets the builtin `object`.
The package draws from the global `random` and `numpy.random` states; generation seeds
them, and puts the caller's states back afterwards.
"""

from __future__ import annotations

import importlib
import random
import types
from collections.abc import Callable
from typing import Any

import numpy as np

DIFFICULTIES = ("easy", "medium", "hard")
INSTALL_HINT = (
    "install it with `pip install 'modularity-sweeps[mathematics]'` "
    "(or `pip install mathematics-dataset==1.0.1`)"
)


class _ItemsetArray(np.ndarray):
    """An ndarray with numpy 1's `itemset`, which the polynomial sampler calls."""

    def itemset(self, index: Any, value: Any) -> None:
        self[index] = value


class _Numpy1(types.ModuleType):
    """numpy as the polynomial sampler expects it: `np.object` and arrays with `itemset`."""

    object = object

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    def zeros(self, *args: Any, **kwargs: Any) -> np.ndarray:
        return np.zeros(*args, **kwargs).view(_ItemsetArray)

    def empty(self, *args: Any, **kwargs: Any) -> np.ndarray:
        return np.empty(*args, **kwargs).view(_ItemsetArray)


def _patch_package() -> Any:
    """Import the package's module table with the compatibility fixes applied."""
    diophantine: Any = importlib.import_module("sympy.solvers.diophantine")
    if not hasattr(diophantine, "base_solution_linear"):
        moved = importlib.import_module("sympy.solvers.diophantine.diophantine")
        diophantine.base_solution_linear = moved.base_solution_linear
    try:
        polynomials: Any = importlib.import_module("mathematics_dataset.sample.polynomials")
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith("mathematics_dataset"):
            raise ModuleNotFoundError(
                f"task.generate needs the package `mathematics-dataset`, which is not "
                f"installed; {INSTALL_HINT}, or give task.path with the released files"
            ) from None
        raise
    polynomials.np = _Numpy1("numpy")
    return importlib.import_module("mathematics_dataset.modules.modules")


def _entropy_range(level: int) -> Callable[[tuple[float, float]], tuple[float, float]]:
    """The package's difficulty split: level k of 3 takes the k-th third of the range."""

    def restrict(entropy: tuple[float, float]) -> tuple[float, float]:
        low, high = entropy
        return low + level / 3 * (high - low), low + (level + 1) / 3 * (high - low)

    return restrict


def generate_pairs(module: str, difficulty: str, count: int, seed: int) -> list[tuple[str, str]]:
    """`count` (question, answer) pairs of `module` (e.g. "algebra__linear_1d") at `difficulty`.

    Like the package's own generator, questions or answers over its length limits are
    drawn again. The same arguments give the same pairs.
    """
    modules = _patch_package()
    settings = importlib.import_module("mathematics_dataset.generate_settings")
    group, name = module.split("__", 1)
    sample = modules.train(_entropy_range(DIFFICULTIES.index(difficulty)))[group][name]
    saved = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        pairs: list[tuple[str, str]] = []
        while len(pairs) < count:
            problem = sample()
            question, answer = str(problem.question), str(problem.answer)
            if (
                len(question) <= settings.MAX_QUESTION_LENGTH
                and len(answer) <= settings.MAX_ANSWER_LENGTH
            ):
                pairs.append((question, answer))
        return pairs
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
