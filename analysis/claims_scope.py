"""Which rows each claim of E2-E7 is judged on: experiments found by their data, and the
experiments a claim compares matched by their task and model config.

An experiment is double addition when its evaluations name pair1 and pair2; SCAN when they
name simple and addprim_jump (a baseline when it has no masks); the Mathematics Dataset
when an easy mask is evaluated on hard; CIFAR-10 class removal when its confusions have a
without_<class> mask; E6 when its overlaps pair `<t>-order<i>` with `<t>-order<j>`; E7 when
it has `transfer_sharing` rows.

Two experiments match (C6: copyweight and plain FNN; C9: IID net and the baseline trained
on a split) when the `task` and `model` sections of their jobs' configs (`runs.config_json`)
are equal. Without runs rows, the naming convention of configs/sweeps/ stands in: the
copyweight control of `X` is `X_copyweight` and the baselines of `X` are `X_baselines`,
each in the same setting (C6) or with `training.target_function` in the setting (C9).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from analysis.claims_experiments import (
    KEEP_PROBABILITY_MASS_COLUMNS,
    KEEP_PROBABILITY_MASS_TABLE,
    ORDER_LABEL,
    PAIRS,
    SCAN_IID,
    SCAN_JUMP,
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
from analysis.class_removal import REMOVAL_PREFIX
from analysis.schema import TABLES
from analysis.verdicts import ClaimVerdict, not_run, scope, table

COPY_WEIGHTS = "copy_pair_weights"  # the E2 copyweight control's `before_masking`
FRESH_LOGIT_KEY = "transfer.fresh_logit"
TRAINED_ON_KEY = "training.target_function"
DROPOUT_KEY = "model.dropout"
Key = tuple[str, str]  # (experiment, setting)


def experiment_verdicts(tables: dict[str, pd.DataFrame]) -> list[ClaimVerdict]:
    """Verdicts of C5-C13, C16, and of C15 (E2) and C17 (E2, SCAN IID), for every
    experiment and setting they apply to; none for experiments absent from the tables."""
    frames = {name: table(tables, name, list(TABLES[name].model_fields)) for name in TABLES}
    frames["masses"] = table(tables, KEEP_PROBABILITY_MASS_TABLE, KEEP_PROBABILITY_MASS_COLUMNS)
    configs = _configs(frames["runs"])
    return [
        *_double_addition(frames, configs),
        *_scan(frames, configs),
        *_mathematics(frames),
        *_class_removal(frames, configs),
        *_mask_stability(frames),
        *_transfer(frames, configs),
    ]


def _double_addition(
    frames: dict[str, pd.DataFrame], configs: dict[Key, dict]
) -> list[ClaimVerdict]:
    evaluations, overlaps = frames["evaluations"], frames["mask_overlaps"]
    keys = _settings(evaluations, lambda rows: set(PAIRS) <= set(rows["evaluated_function"]))
    copies = [key for key in keys if _is_copyweight(key, configs)]
    verdicts = []
    for key in keys:
        if key in copies:
            plain = next(
                (k for k in keys if k not in copies and _matches(k, key, configs, "_copyweight")),
                None,
            )
            verdict = (
                claim_c6(scope(overlaps, *key), scope(overlaps, *plain))
                if plain
                else not_run("C6", "no plain FNN experiment with the same task and model")
            )
            verdicts.append(_label(verdict, key))
            continue
        copy = next((k for k in copies if _matches(key, k, configs, "_copyweight")), None)
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


def _scan(frames: dict[str, pd.DataFrame], configs: dict[Key, dict]) -> list[ClaimVerdict]:
    evaluations = frames["evaluations"]
    keys = _settings(
        evaluations, lambda rows: {SCAN_IID, SCAN_JUMP} <= set(rows["evaluated_function"])
    )
    masked = [key for key in keys if (scope(evaluations, *key)["mask_variant"] == "mask").any()]
    baselines = [key for key in keys if key not in masked]
    verdicts = []
    for key in masked:
        trained = {
            _value(b, configs, "training", "target_function", TRAINED_ON_KEY): scope(
                evaluations, *b
            )
            for b in baselines
            if _matches(key, b, configs, "_baselines", same_setting=False)
        }
        found = [
            claim_c7(scope(evaluations, *key)),
            claim_c8(scope(frames["mask_rows"], *key)),
            claim_c9(scope(evaluations, *key), trained),
            claim_c17_scan(scope(evaluations, *key)),
        ]
        verdicts += [_label(verdict, key) for verdict in found]
    return verdicts


def _mathematics(frames: dict[str, pd.DataFrame]) -> list[ClaimVerdict]:
    evaluations = frames["evaluations"]
    keys = _settings(
        evaluations,
        lambda rows: (
            (rows["mask_target"] == "easy") & (rows["evaluated_function"] == "hard")
        ).any(),
    )
    return [_label(claim_c10(scope(evaluations, *key)), key) for key in keys]


def _class_removal(frames: dict[str, pd.DataFrame], configs: dict[Key, dict]) -> list[ClaimVerdict]:
    confusions = frames["confusions"]
    keys = _settings(
        confusions, lambda rows: rows["mask_target"].dropna().str.startswith(REMOVAL_PREFIX).any()
    )
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


def _mask_stability(frames: dict[str, pd.DataFrame]) -> list[ClaimVerdict]:
    overlaps = frames["mask_overlaps"]
    ordered = overlaps[
        overlaps["function_a"].str.match(ORDER_LABEL)
        & overlaps["function_b"].str.match(ORDER_LABEL)
    ]
    return [
        _label(claim_c13(scope(overlaps, experiment)), (experiment, "mean over all settings"))
        for experiment in ordered["experiment"].unique()
    ]


def _transfer(frames: dict[str, pd.DataFrame], configs: dict[Key, dict]) -> list[ClaimVerdict]:
    sharing = frames["transfer_sharing"]
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


def _settings(frame: pd.DataFrame, belongs) -> list[Key]:
    """(experiment, setting) of every experiment whose rows satisfy `belongs`, in table order."""
    experiments = [e for e, rows in frame.groupby("experiment", sort=False) if belongs(rows)]
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


def _is_copyweight(key: Key, configs: dict[Key, dict]) -> bool:
    if key in configs:
        return configs[key].get("before_masking") == COPY_WEIGHTS
    return key[0].endswith("_copyweight")


def _matches(
    key: Key, other: Key, configs: dict[Key, dict], suffix: str, same_setting: bool = True
) -> bool:
    """Same task and model config; without configs, `other` is `key`'s experiment + suffix."""
    if key in configs and other in configs:
        sections = [{s: configs[k].get(s) for s in ("task", "model")} for k in (key, other)]
        return sections[0] == sections[1]
    return other[0] == key[0] + suffix and (not same_setting or other[1] == key[1])


def _label(verdict: ClaimVerdict, key: Key) -> ClaimVerdict:
    return verdict.model_copy(update={"experiment": key[0], "setting": key[1]})
