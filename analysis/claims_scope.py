"""Which rows each claim of E2-E7 is judged on: experiments selected by their declared
role (`analysis/roles.py`), and the experiments a claim compares matched by their config.

Two experiments match (C6: a double_add_copyweight experiment and the plain double_add
FNN; C9: a scan experiment and the scan_baseline trained on a split) when the `task` and
`model` sections of their jobs' configs (`runs.config_json`) are equal. Without runs rows,
the only experiment of the partner role stands in when there is exactly one.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from analysis.claims_experiments import (
    KEEP_PROBABILITY_MASS_COLUMNS,
    KEEP_PROBABILITY_MASS_TABLE,
    ORDER_LABEL,
    claim_c5,
    claim_c6,
    claim_c7,
    claim_c8,
    claim_c9,
    claim_c10,
    claim_c11,
    claim_c12,
    claim_c13,
    claim_c15,
    claim_c16,
    claim_c17,
    claim_c17_scan,
)
from analysis.schema import TABLES
from analysis.verdicts import ClaimVerdict, not_run, scope, table

ALL_SETTINGS = "mean over all settings"
FRESH_LOGIT_KEY = "transfer.fresh_logit"
TRAINED_ON_KEY = "training.target_function"
DROPOUT_KEY = "model.dropout"
Key = tuple[str, str]  # (experiment, setting)


def experiment_verdicts(
    tables: dict[str, pd.DataFrame], roles: dict[str, str]
) -> list[ClaimVerdict]:
    """Verdicts of C5-C13, C16, and of C15 (E2) and C17 (E2, SCAN IID), for every
    experiment and setting of the roles they are scoped to; `roles`: experiment -> role."""
    frames = {name: table(tables, name, list(TABLES[name].model_fields)) for name in TABLES}
    frames["masses"] = table(tables, KEEP_PROBABILITY_MASS_TABLE, KEEP_PROBABILITY_MASS_COLUMNS)
    configs = _configs(frames["runs"])

    def having(*wanted: str) -> list[str]:
        return [experiment for experiment, role in roles.items() if role in wanted]

    return [
        *_double_addition(frames, configs, having("double_add"), having("double_add_copyweight")),
        *_scan(frames, configs, having("scan"), having("scan_baseline")),
        *_mathematics(frames, having("mathematics")),
        *_class_removal(frames, configs, having("class_removal")),
        *_mask_stability(frames, having("mask_stability")),
        *_transfer(frames, configs, having("transfer")),
    ]


def _double_addition(
    frames: dict[str, pd.DataFrame],
    configs: dict[Key, dict],
    plain_experiments: list[str],
    copy_experiments: list[str],
) -> list[ClaimVerdict]:
    evaluations, overlaps = frames["evaluations"], frames["mask_overlaps"]
    keys = _settings(evaluations, plain_experiments + copy_experiments)
    copies = [key for key in keys if key[0] in copy_experiments]
    plains = [key for key in keys if key not in copies]
    verdicts = []
    for key in keys:
        if key in copies:
            plain = _partner(key, plains, configs)
            verdict = (
                claim_c6(scope(overlaps, *key), scope(overlaps, *plain))
                if plain
                else not_run("C6", "no plain FNN experiment with the same task and model")
            )
            verdicts.append(_label(verdict, key))
            continue
        copy = _partner(key, copies, configs)
        found = [
            claim_c5(
                scope(evaluations, *key),
                scope(overlaps, *key),
                scope(overlaps, *copy) if copy else None,
            ),
            claim_c15(scope(frames["masses"], *key)),
            claim_c17(scope(evaluations, *key)),
        ]
        verdicts += [_label(verdict, key) for verdict in found]
    return verdicts


def _scan(
    frames: dict[str, pd.DataFrame],
    configs: dict[Key, dict],
    masked_experiments: list[str],
    baseline_experiments: list[str],
) -> list[ClaimVerdict]:
    evaluations = frames["evaluations"]
    masked = _settings(evaluations, masked_experiments)
    baselines = _settings(evaluations, baseline_experiments)
    verdicts = []
    for key in masked:
        trained = {
            _value(b, configs, "training", "target_function", TRAINED_ON_KEY): scope(
                evaluations, *b
            )
            for b in _partners(key, baselines, configs)
        }
        found = [
            claim_c7(scope(evaluations, *key)),
            claim_c8(scope(frames["mask_rows"], *key)),
            claim_c9(scope(evaluations, *key), trained),
            claim_c17_scan(scope(evaluations, *key)),
        ]
        verdicts += [_label(verdict, key) for verdict in found]
    return verdicts


def _mathematics(frames: dict[str, pd.DataFrame], experiments: list[str]) -> list[ClaimVerdict]:
    evaluations = frames["evaluations"]
    keys = _settings(evaluations, experiments)
    return [_label(claim_c10(scope(evaluations, *key)), key) for key in keys]


def _class_removal(
    frames: dict[str, pd.DataFrame], configs: dict[Key, dict], experiments: list[str]
) -> list[ClaimVerdict]:
    confusions = frames["confusions"]
    keys = _settings(confusions, experiments)
    verdicts = []
    for key in keys:
        rows = scope(confusions, *key)
        c11 = (
            not_run(
                "C11", "the paper claims C11 for models without dropout; this setting has dropout"
            )
            if _value(key, configs, "model", "dropout", DROPOUT_KEY) is True
            else claim_c11(rows)
        )
        verdicts += [_label(c11, key), _label(claim_c12(rows), key)]
    return verdicts


def _mask_stability(frames: dict[str, pd.DataFrame], experiments: list[str]) -> list[ClaimVerdict]:
    overlaps = frames["mask_overlaps"]
    ordered = overlaps[
        overlaps["function_a"].str.match(ORDER_LABEL)
        & overlaps["function_b"].str.match(ORDER_LABEL)
        & overlaps["experiment"].isin(experiments)
    ]
    return [
        _label(claim_c13(scope(overlaps, experiment)), (experiment, ALL_SETTINGS))
        for experiment in ordered["experiment"].unique()
    ]


def _transfer(
    frames: dict[str, pd.DataFrame], configs: dict[Key, dict], experiments: list[str]
) -> list[ClaimVerdict]:
    sharing = frames["transfer_sharing"]
    sharing = sharing[sharing["experiment"].isin(experiments)]
    verdicts = []
    for experiment, rows in sharing.groupby("experiment", sort=False):
        groups: dict[str, dict[str, float]] = {}
        for setting in rows["setting"].unique():
            logit = _value(
                (experiment, setting), configs, "transfer", "fresh_logit", FRESH_LOGIT_KEY
            )
            group = json.loads(setting) if setting else {}
            group.pop(FRESH_LOGIT_KEY, None)
            if logit is not None:
                groups.setdefault(json.dumps(group, sort_keys=True, separators=(",", ":")), {})[
                    setting
                ] = float(logit)
        if not groups:
            verdicts.append(
                _label(not_run("C16", f"no setting names {FRESH_LOGIT_KEY}"), (experiment, ""))
            )
        for group, logits in groups.items():
            found = claim_c16(rows[rows["setting"].isin(logits)], logits)
            verdicts.append(_label(found, (experiment, group)))
    return verdicts


def _settings(frame: pd.DataFrame, experiments: list[str]) -> list[Key]:
    """(experiment, setting) of the experiments' rows, in table order."""
    found = frame[frame["experiment"].isin(experiments)][["experiment", "setting"]]
    return list(found.drop_duplicates().itertuples(index=False, name=None))


def _configs(runs: pd.DataFrame) -> dict[Key, dict[str, Any]]:
    """Per experiment and setting, its jobs' config sections merged (train, then fit, then
    evaluate or transfer; a later job's section wins)."""
    order = {"train": 0, "fit": 1, "evaluate": 2, "transfer": 2}
    configs: dict[Key, dict[str, Any]] = {}
    for row in sorted(runs.itertuples(), key=lambda r: order.get(r.kind, 3)):
        configs.setdefault((row.experiment, row.setting), {}).update(json.loads(row.config_json))
    return configs


def _value(key: Key, configs: dict[Key, dict], section: str, field: str, setting_key: str) -> Any:
    """A config field of the experiment and setting, or else the setting's own value."""
    config = configs.get(key, {})
    if field in config.get(section, {}):
        return config[section][field]
    return (json.loads(key[1]) if key[1] else {}).get(setting_key)


def _partners(key: Key, candidates: list[Key], configs: dict[Key, dict]) -> list[Key]:
    """The candidates with the same task and model config as `key`; without configs, every
    candidate of the only other experiment (when there is exactly one)."""
    if key in configs and all(other in configs for other in candidates):
        sections = {s: configs[key].get(s) for s in ("task", "model")}
        return [
            other
            for other in candidates
            if {s: configs[other].get(s) for s in ("task", "model")} == sections
        ]
    return candidates if len({other[0] for other in candidates}) == 1 else []


def _partner(key: Key, candidates: list[Key], configs: dict[Key, dict]) -> Key | None:
    """The matching candidate in `key`'s setting, else the first match in any setting."""
    found = _partners(key, candidates, configs)
    return next((k for k in found if k[1] == key[1]), found[0] if found else None)


def _label(verdict: ClaimVerdict, key: Key) -> ClaimVerdict:
    return verdict.model_copy(update={"experiment": key[0], "setting": key[1]})
