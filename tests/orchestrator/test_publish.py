"""reproduce_cpu.yaml, shrunk to a few steps, through `submit` and `analyze --publish`.

The real run (about 90 minutes on 2 CPU cores) writes docs/results.md; this checks that
every experiment of the file gets its section on the page, and that every figure the page
links exists, without training anything for real.
"""

from __future__ import annotations

import re

import pytest
import yaml
from support.sweeps import REPO
from test_every_experiment_tiny import data_files, shrink

from orchestrator.cli import main
from orchestrator.sweep.spec import load_sweep

pytestmark = pytest.mark.slow

REPRODUCE = REPO / "configs" / "sweeps" / "reproduce_cpu.yaml"


def test_tiny_reproduce_cpu_publishes_every_section_and_figure(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(tmp_path / "ws"))
    sweep = load_sweep(REPRODUCE)
    files = data_files(tmp_path / "data")  # the Mathematics Dataset without its extra
    tiny = {
        "name": "reproduce_tiny",
        "experiments": [
            shrink(experiment.model_dump(mode="json"), files) for experiment in sweep.experiments
        ],
    }
    path = tmp_path / "reproduce_tiny.yaml"
    path.write_text(yaml.safe_dump(tiny))
    assert main(["submit", str(path), "--executor", "local"]) == 0
    page = tmp_path / "docs" / "results.md"
    assert main(["analyze", "reproduce_tiny", "--publish", str(page)]) == 0
    assert f"Results page: {page}" in capsys.readouterr().out.replace("\n", "")
    text = page.read_text()
    for heading in (
        "# Results: reproduce_tiny",
        "## The paper's claims",
        "## Did the models learn and the masks converge?",
        "## Wall time and cost",
    ):
        assert heading in text
    assert re.search(r"from commit `([0-9a-f]{40}|unknown)`", text)
    for experiment in sweep.experiments:
        section = text.split(f"## {experiment.name} ({experiment.role})\n")[1].split("\n## ")[0]
        assert experiment.differs_from_paper in section
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert figures and all((page.parent / figure).is_file() for figure in figures)
    assert {p.name for p in (page.parent / "results" / "figures").iterdir()} == {
        figure.rsplit("/", 1)[1] for figure in figures
    }
