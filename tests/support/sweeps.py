"""The tiny add/mul sweep most tests run, and where the repository lies."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def tiny_sweep_data(name: str = "tiny", seeds: tuple[int, ...] = (1, 2)) -> dict:
    """An add/mul sweep that runs in seconds; large enough for every table to fill."""
    return {
        "name": name,
        "experiments": [
            {
                "name": "addmul_ff",
                "role": "addmul",
                "task": {"name": "addmul", "train_size": 2000, "validation_size": 300},
                "model": {"name": "fnn", "hidden_sizes": [16, 16]},
                "training": {"steps": 40, "learning_rate": 0.003, "log_every": 10},
                "mask_fit": {"steps": 12, "log_every": 4, "batch_size": 64},
                "evaluation": {"batch_size": 512},
                "grid": {"seed": list(seeds)},
            }
        ],
    }
