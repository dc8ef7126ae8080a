"""Which rows a claim is judged on: the sweep's tables, the experiments of a declared role, and
the experiments a claim compares, matched by their config.

Experiments are selected by the role their sweep file declares (`analysis/roles.py`,
docs/method.md, section 5), never guessed from names. Two experiments match (C6: a
double_add_copyweight experiment and the plain double_add FNN; C9: a scan experiment and the
scan_baseline trained on a split) when the `task` and `model` sections of their jobs'
configs (`runs.config_json`) are equal. Without runs rows, the only experiment of the
partner role stands in when there is exactly one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.attribution import SERVES
from analysis.claims.spanning import KEEP_PROBABILITY_MASS_COLUMNS, KEEP_PROBABILITY_MASS_TABLE
from analysis.schema import TABLES
from analysis.verdicts import ClaimVerdict, table

Key = tuple[str, str]  # (experiment, setting)


@dataclass(frozen=True)
class Sweep:
    """A sweep as the claims read it: every table (empty with its columns when absent, plus
    `masses`, the control masks' keep-probability masses), the declared roles
    (experiment -> role) and each experiment and setting's merged job config."""

    frames: dict[str, pd.DataFrame]
    roles: dict[str, str]
    configs: dict[Key, dict[str, Any]]

    def having(self, *wanted: str) -> list[str]:
        """The experiments that declare one of these roles, in declaration order."""
        return [experiment for experiment, role in self.roles.items() if role in wanted]


def read_sweep(tables: dict[str, pd.DataFrame], roles: dict[str, str]) -> Sweep:
    """The sweep's tables as `Sweep`; `roles`: experiment -> role."""
    frames = {name: table(tables, name, list(TABLES[name].model_fields)) for name in TABLES}
    frames["masses"] = table(tables, KEEP_PROBABILITY_MASS_TABLE, KEEP_PROBABILITY_MASS_COLUMNS)
    return Sweep(frames, roles, configs(frames["runs"], tables.get(SERVES)))


def settings(frame: pd.DataFrame, experiments: list[str]) -> list[Key]:
    """(experiment, setting) of the experiments' rows, in table order."""
    found = frame[frame["experiment"].isin(experiments)][["experiment", "setting"]]
    return list(found.drop_duplicates().itertuples(index=False, name=None))


def configs(runs: pd.DataFrame, serves: pd.DataFrame | None) -> dict[Key, dict[str, Any]]:
    """Per experiment and setting, its jobs' config sections merged (train, then fit, then
    evaluate or transfer; a later job's section wins). A job serving several experiments
    (table `job_experiments`) gives its config to each of them."""
    order = {"train": 0, "fit": 1, "evaluate": 2, "transfer": 2}
    served: dict[str, list[Key]] = {}
    if serves is not None and not serves.empty:
        for job_id, experiment, setting in serves[["job_id", "experiment", "setting"]].itertuples(
            index=False, name=None
        ):
            served.setdefault(job_id, []).append((experiment, setting))
    merged: dict[Key, dict[str, Any]] = {}
    for row in sorted(runs.itertuples(), key=lambda r: order.get(r.kind, 3)):
        config = json.loads(row.config_json)
        for key in served.get(row.job_id, [(row.experiment, row.setting)]):
            merged.setdefault(key, {}).update(config)
    return merged


def value(key: Key, sweep: Sweep, section: str, field: str, setting_key: str) -> Any:
    """A config field of the experiment and setting, or else the setting's own value."""
    config = sweep.configs.get(key, {})
    if field in config.get(section, {}):
        return config[section][field]
    return (json.loads(key[1]) if key[1] else {}).get(setting_key)


def partners(key: Key, candidates: list[Key], sweep: Sweep) -> list[Key]:
    """The candidates with the same task and model config as `key`; without configs, every
    candidate of the only other experiment (when there is exactly one)."""
    known = sweep.configs
    if key in known and all(other in known for other in candidates):
        sections = {s: known[key].get(s) for s in ("task", "model")}
        return [
            other
            for other in candidates
            if {s: known[other].get(s) for s in ("task", "model")} == sections
        ]
    return candidates if len({other[0] for other in candidates}) == 1 else []


def partner(key: Key, candidates: list[Key], sweep: Sweep) -> Key | None:
    """The matching candidate in `key`'s setting, else the first match in any setting."""
    found = partners(key, candidates, sweep)
    return next((k for k in found if k[1] == key[1]), found[0] if found else None)


def label(verdict: ClaimVerdict, key: Key) -> ClaimVerdict:
    """The verdict with the experiment and setting it was judged on."""
    return verdict.model_copy(update={"experiment": key[0], "setting": key[1]})
