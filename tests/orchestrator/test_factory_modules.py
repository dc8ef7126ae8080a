"""A sweep naming `custom` factories is code: `plan` imports none of it, the standard library
is never a factory, and ORCHESTRATOR_FACTORY_MODULES limits where factories may come from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.sweep_processes import environment, write_sweep
from support.sweeps import REPO

EXAMPLE = REPO / "examples" / "my_model"


def custom_sweep(name: str, task_factory: str, task_options: dict | None = None) -> dict:
    return {
        "name": name,
        "experiments": [
            {
                "name": "own",
                "task": {
                    "name": "custom",
                    "factory": task_factory,
                    "options": task_options or {},
                    "targets": ["all", "first_pair", "last_pair"],
                },
                "model": {"name": "custom", "factory": "my_model.models:make_model"},
                "training": {"steps": 10},
                "mask_fit": {"steps": 4},
            }
        ],
    }


def cli(*args: str, folder: Path, **extra: str) -> subprocess.CompletedProcess:
    env = environment(folder / "ws", **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(EXAMPLE), str(folder)])
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_standard_library_factory_is_refused_in_one_line_and_never_runs(tmp_path):
    marker = tmp_path / "ran"
    sweep = custom_sweep("shell", "os:system", {"command": f"touch {marker}"})
    sweep_file = write_sweep(tmp_path, sweep)
    for command in ("plan", "submit"):
        result = cli(command, str(sweep_file), folder=tmp_path)
        assert result.returncode == 2, result.stderr[-2000:]
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
        assert "task.factory 'os:system'" in result.stderr and "part of Python" in result.stderr
    assert not marker.exists()


def test_plan_finds_a_factory_module_without_importing_it_or_its_package(tmp_path):
    marker = tmp_path / "imported"
    for module in (tmp_path / "planted_factory.py", tmp_path / "planted_pkg" / "__init__.py"):
        module.parent.mkdir(exist_ok=True)
        module.write_text(f"open({str(marker)!r}, 'a').write({module.stem!r})\n")
    (tmp_path / "planted_pkg" / "tasks.py").write_text(f"open({str(marker)!r}, 'a').write('t')\n")
    for factory in ("planted_factory:make_task", "planted_pkg.tasks:make_task"):
        sweep_file = write_sweep(tmp_path, custom_sweep("planted", factory))
        result = cli("plan", str(sweep_file), folder=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "own: 1 train, 3 fit, 1 evaluate" in result.stdout
    assert not marker.exists()

    missing = write_sweep(tmp_path, custom_sweep("missing", "planted_pkg.nope:make_task"))
    result = cli("plan", str(missing), folder=tmp_path)
    assert result.returncode == 2 and "cannot import module 'planted_pkg.nope'" in result.stderr
    assert not marker.exists()


def test_factory_modules_setting_refuses_any_other_module_in_one_line(tmp_path):
    sweep_file = write_sweep(tmp_path, custom_sweep("allowed", "planted_factory:make_task"))
    (tmp_path / "planted_factory.py").write_text("")
    result = cli("plan", str(sweep_file), folder=tmp_path, ORCHESTRATOR_FACTORY_MODULES="my_model")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "not among the allowed factory modules (my_model)" in result.stderr

    example = REPO / "configs" / "sweeps" / "example_custom.yaml"
    allowed = cli("plan", str(example), folder=tmp_path, ORCHESTRATOR_FACTORY_MODULES="my_model")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
