"""Your own task and model, named by import path: analyse a network without editing this repo.

A sweep says `task: {name: custom, factory: "my_pkg.tasks:make_task", options: {...},
targets: [all, a, b]}` and `model: {name: custom, factory: "my_pkg.models:make_model",
options: {...}}`. The task factory is called as `make_task(**options)` and returns an
object with the `Task` interface of `workloads.data.base`; the model factory is called as
`make_model(task, **options)` and returns a `torch.nn.Module`. The targets are listed in
the config so the sweep is checked before anything runs; the built task must agree.

A sweep file that names factories is code, like a script: its factories run when its jobs
run. Validating a sweep (`orchestrator plan`) imports nothing: it checks that the module can
be found (a typo fails at once, naming the file and line) and that it may be used: never a
module of Python's standard library (`os:system` is no factory), and, when the validation
context lists `factory_modules` prefixes (ORCHESTRATOR_FACTORY_MODULES), only those. Each
job imports and calls its factories in its own process: the package must be importable on
the driver and on every worker (installed, or on PYTHONPATH).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from torch import nn

from workloads.data.base import Task, TaskConfig
from workloads.models.base import ModelConfig

FACTORY_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$"
TASK_MEMBERS = ("target_functions", "shape", "train_examples", "eval_examples", "step")


class FactoryError(ImportError):
    """A factory path that cannot be imported or called; the message says how to fix it."""


def load_factory(path: str, field: str) -> Callable[..., Any]:
    """The callable at "package.module:function" (attributes may be dotted: "mod:Class.make")."""
    module_name, _, attribute = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise FactoryError(
            f"{field} {path!r}: cannot import module {module_name!r} ({error}); install the "
            f"package that provides it (pip install -e <folder>) or add its parent folder to "
            f"PYTHONPATH, on the machine that submits and on every Ray worker"
        ) from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise FactoryError(
                f"{field} {path!r}: module {module_name!r} has no attribute {attribute!r}"
            )
        found = getattr(found, part)
    if not callable(found):
        raise FactoryError(f"{field} {path!r}: {attribute!r} is not callable")
    return found


def module_found(name: str) -> bool:
    """Whether module `name` can be imported, found without importing it or its packages."""
    top, *rest = name.split(".")
    spec = importlib.util.find_spec(top)  # a top-level module is only looked up
    for part in rest:
        if spec is None or spec.submodule_search_locations is None:
            return False
        spec = importlib.machinery.PathFinder.find_spec(part, list(spec.submodule_search_locations))
    return spec is not None


def check_factory(path: str, field: str, allowed: Sequence[str] = ()) -> str:
    """Refuse a factory from the standard library, from outside `allowed` module prefixes
    (when any are given) or from a module that cannot be found; runs none of its code."""
    module_name = path.partition(":")[0]
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names or top == "__main__":
        raise ValueError(
            f"{field} {path!r}: module {module_name!r} is part of Python itself, not a task or "
            "model factory; name a function of your own package"
        )
    if allowed and not any(module_name == p or module_name.startswith(p + ".") for p in allowed):
        raise ValueError(
            f"{field} {path!r}: module {module_name!r} is not among the allowed factory modules "
            f"({', '.join(allowed)}); add its package to ORCHESTRATOR_FACTORY_MODULES if you "
            "trust this sweep file"
        )
    if not module_found(module_name):
        raise ValueError(
            f"{field} {path!r}: cannot import module {module_name!r} (not found); install the "
            f"package that provides it (pip install -e <folder>) or add its parent folder to "
            f"PYTHONPATH, on the machine that submits and on every Ray worker"
        )
    return path


def _checked(path: str, info: ValidationInfo, field: str) -> str:
    allowed = (info.context or {}).get("factory_modules", ())
    return check_factory(path, field, allowed)  # pydantic turns errors into located spec errors


class CustomTaskConfig(TaskConfig):
    name: Literal["custom"] = "custom"
    factory: str = Field(
        pattern=FACTORY_PATTERN, description='"package.module:function" returning a Task'
    )
    options: dict[str, Any] = Field(default_factory=dict, description="keyword arguments")
    targets: list[str] = Field(
        min_length=1, description="the task's target functions, the control (whole task) first"
    )

    @field_validator("factory")
    @classmethod
    def _factory_allowed(cls, path: str, info: ValidationInfo) -> str:
        return _checked(path, info, "task.factory")

    @field_validator("targets")
    @classmethod
    def _unique(cls, targets: list[str]) -> list[str]:
        if len(set(targets)) != len(targets):
            raise ValueError(f"target functions must be unique, got {targets}")
        return targets

    def target_functions(self) -> tuple[str, ...]:
        return tuple(self.targets)

    def build(self) -> Task:
        task = load_factory(self.factory, "task.factory")(**self.options)
        missing = [member for member in TASK_MEMBERS if not hasattr(task, member)]
        if missing:
            raise TypeError(
                f"task.factory {self.factory!r} returned {type(task).__name__}, which lacks "
                f"{', '.join(missing)} of the Task interface (workloads/data/base.py)"
            )
        if tuple(task.target_functions) != self.target_functions():
            raise ValueError(
                f"task.factory {self.factory!r} built target functions "
                f"{list(task.target_functions)}, but task.targets lists {self.targets}"
            )
        return task


class CustomModelConfig(ModelConfig):
    name: Literal["custom"] = "custom"
    factory: str = Field(
        pattern=FACTORY_PATTERN,
        description='"package.module:function", called as f(task, **options)',
    )
    options: dict[str, Any] = Field(default_factory=dict, description="keyword arguments")

    @field_validator("factory")
    @classmethod
    def _factory_allowed(cls, path: str, info: ValidationInfo) -> str:
        return _checked(path, info, "model.factory")

    def build(self, task: Task) -> nn.Module:
        model = load_factory(self.factory, "model.factory")(task, **self.options)
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"model.factory {self.factory!r} returned {type(model).__name__}, "
                "not a torch.nn.Module"
            )
        return model
