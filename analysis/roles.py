"""The roles an experiment can play in the paper, and the claims judged on each.

A sweep file declares each experiment's role (`role:` in the experiment); the claims are
judged only on experiments of the roles they are scoped to, never guessed from experiment
names, target names or grid keys. An experiment without a role is reported (tables and
figures) but judged on no claim. See docs/method.md for each claim's scope.
"""

from __future__ import annotations

from typing import Literal

Role = Literal[
    "addmul",
    "beta_sweep",
    "size_sweep",
    "double_add",
    "double_add_copyweight",
    "scan",
    "scan_baseline",
    "mathematics",
    "class_removal",
    "mask_stability",
    "transfer",
    "half_mask",
    "planted",
]

# role -> (what it is, the claims judged on it)
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "addmul": (
        "E1: the main add/mul experiment (FNN or LSTM)",
        ("C1", "C2", "C3", "C4", "C15", "C17"),
    ),
    "beta_sweep": ("E8: add/mul FNN over beta", ("C14",)),
    "size_sweep": ("E9: add/mul FNN over sizes (reported, no claim)", ()),
    "double_add": ("E2: double addition (FNN big or LSTM)", ("C5", "C15", "C17")),
    "double_add_copyweight": ("E2: the copyweight control of a double_add FNN", ("C6",)),
    "scan": ("E3: SCAN, base model on the IID split with split masks", ("C7", "C8", "C9", "C17")),
    "scan_baseline": ("E3: models trained on each split, no masks (used by C9)", ()),
    "mathematics": ("E4: one Mathematics Dataset module", ("C10",)),
    "class_removal": ("E5: CIFAR-10 class removal", ("C11", "C12")),
    "mask_stability": ("E6: masks of one data subset with different data orders", ("C13",)),
    "transfer": ("E7: permuted MNIST transfer", ("C16",)),
    "half_mask": ("E10: half-mask test (reported, no claim)", ()),
    "planted": ("planted-structure check of the method (orchestrator check-method)", ()),
}


def claims_of(role: str | None) -> tuple[str, ...]:
    """The claims judged on an experiment of this role (none without a role)."""
    return ROLES[role][1] if role in ROLES else ()
