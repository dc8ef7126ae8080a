"""The entry point: every claim of every experiment in a sweep, judged on the experiments of
the roles it is scoped to (docs/method.md, sections 5 and 6).

Each experiment module (one per paper experiment) selects its own experiments by role and
returns their verdicts; this module runs them in the order the claims table lists them and
marks what an unfinished experiment cannot decide (`analysis/completeness.py`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from analysis.attribution import roles as experiment_roles
from analysis.claims import (
    addmul,
    beta_sweep,
    class_removal,
    double_add,
    mask_stability,
    mathematics,
    scan,
    transfer,
)
from analysis.claims.scope import Sweep, read_sweep
from analysis.completeness import with_completeness
from analysis.verdicts import ClaimVerdict

# One entry per paper experiment, in the order its verdicts are listed.
EXPERIMENTS: tuple[Callable[[Sweep], list[ClaimVerdict]], ...] = (
    addmul.verdicts,  # E1
    beta_sweep.verdicts,  # E8
    double_add.verdicts,  # E2
    scan.verdicts,  # E3
    mathematics.verdicts,  # E4
    class_removal.verdicts,  # E5
    mask_stability.verdicts,  # E6
    transfer.verdicts,  # E7
)


def check_claims(
    tables: dict[str, pd.DataFrame], roles: dict[str, str] | None = None
) -> list[ClaimVerdict]:
    """Every claim for every experiment and setting of the roles it is scoped to.

    `roles` (experiment -> role, `analysis/roles.py`) default to the roles the sweep file
    declared (table `job_experiments`). C1-C4, C15 and C17 are judged on each `addmul`
    experiment, C14 on each `beta_sweep`; the others in their experiment's module. A claim
    whose experiment has unfinished jobs or seeds is "incomplete" (`completeness`); a
    declared experiment without rows gives "not run" (or "incomplete") for each claim of its
    role. Claims that no declared experiment is scoped to are not listed.
    """
    roles = experiment_roles(tables) if roles is None else roles
    sweep = read_sweep(tables, roles)
    verdicts = [verdict for judge in EXPERIMENTS for verdict in judge(sweep)]
    return with_completeness(verdicts, tables, roles)
