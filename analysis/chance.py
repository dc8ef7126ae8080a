"""Chance level of every overlap statistic: what two independent random masks would give.

Two masks that keep each weight of a layer independently with densities p and q share
a fraction pq of the layer, so any overlap is partly chance: dense masks (short fits,
docs/method.md, E1) overlap a lot whatever the network does. The report
sets each measured statistic beside its chance level and their ratio. Formulas, with
union u = p + q - pq:
  IoU = pq / u; IoMin = pq / min(p, q) = max(p, q); share of A that B also keeps = q;
  of the union: only A = p(1-q) / u, only B = q(1-p) / u, both = pq / u;
  of the layer: only A = p(1-q), only B = q(1-p), both = pq.
Conventions follow analysis/sharing.py: IoU and the shares of the union are NaN when both
masks are empty; IoMin is 1 when either is empty (the empty mask is a subset).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import pandas as pd

Density: TypeAlias = float | np.ndarray | pd.Series


def _union(p: Density, q: Density) -> Density:
    union = p + q - p * q
    return np.where(union > 0, union, np.nan)


def chance_iou(p: Density, q: Density) -> Density:
    """Expected intersection over union: pq / (p + q - pq)."""
    return p * q / _union(p, q)


def chance_iomin(p: Density, q: Density) -> Density:
    """Expected intersection over the smaller mask: pq / min(p, q) = max(p, q); 1 if one is empty."""
    return np.where(np.minimum(p, q) > 0, np.maximum(p, q), 1.0)


def chance_shared_of_a(p: Density, q: Density) -> Density:
    """Expected share of A's weights that B also keeps (the paper's shared proportion): q.

    NaN when A is empty, as the measured share is.
    """
    return np.where(p > 0, q, np.nan)


CHANCE: dict[str, Callable[[Density, Density], Density]] = {
    "only_a": lambda p, q: p * (1 - q) / _union(p, q),
    "only_b": lambda p, q: q * (1 - p) / _union(p, q),
    "both": chance_iou,
    "iou": chance_iou,
    "iomin": chance_iomin,
    "only_a_of_layer": lambda p, q: p * (1 - q),
    "only_b_of_layer": lambda p, q: q * (1 - p),
    "both_of_layer": lambda p, q: p * q,
}


def with_chance(stats: pd.DataFrame) -> pd.DataFrame:
    """Add `<stat>_chance` and `<stat>_over_chance` (measured / chance) to `layer_sharing` rows.

    Densities are each row's kept_a / total and kept_b / total. The ratio is NaN where the
    chance level is 0 or undefined. Statistics absent from `stats` are skipped.
    """
    frame = stats.copy()
    total = frame["total"].astype(float)
    p = (frame["kept_a"] / total).to_numpy()
    q = (frame["kept_b"] / total).to_numpy()
    for stat, formula in CHANCE.items():
        if stat not in frame:
            continue
        chance = np.asarray(formula(p, q), dtype=float)
        frame[f"{stat}_chance"] = chance
        frame[f"{stat}_over_chance"] = frame[stat] / np.where(chance > 0, chance, np.nan)
    return frame
