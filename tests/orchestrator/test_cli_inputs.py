"""Whatever a user types, the real `orchestrator` process ends in one line and a known exit code.

Each test runs the CLI as a child process and checks its exit code, that stderr is one
line (no traceback), and, where memory was the fault, its peak memory: the child runs
under an address-space limit, so a regression fails fast instead of eating the machine.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from support.ports import free_port
from support.sweeps import REPO, tiny_sweep_data

SWEEPS = sorted((REPO / "configs" / "sweeps").glob("*.yaml"))
ADDRESS_SPACE_LIMIT = 3_000_000_000  # bytes; the CLI with torch loaded needs well under this
PEAK_MEMORY_LIMIT_KB = 1_000_000  # refusing any input must stay this small
INSTALLED = shutil.which("orchestrator", path=str(Path(sys.executable).parent))


class Finished:
    """A finished CLI process: exit code, output and its own peak memory."""

    def __init__(self, code: int, stdout: str, stderr: str, peak_kb: int) -> None:
        self.code, self.stdout, self.stderr, self.peak_kb = code, stdout, stderr, peak_kb

    def one_error_line(self) -> str:
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), self.stderr
        return lines[0]

    def last_line_is_the_error(self) -> str:
        """Submit reports progress on stderr first; its failure is still one last line."""
        assert "Traceback" not in self.stderr, self.stderr
        errors = [line for line in self.stderr.splitlines() if line.startswith("error")]
        assert errors == [self.stderr.splitlines()[-1]], self.stderr
        return errors[0]


def environment(workspace: Path | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "examples" / "my_model")]),
        ORCHESTRATOR_INCLUDE_DASHBOARD="false",
        COLUMNS="200",
        **extra,
    )
    if workspace is not None:
        env["ORCHESTRATOR_WORKSPACE"] = str(workspace)
    return env


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def cli(*args: str, env: dict[str, str] | None = None, command: list[str] | None = None, **popen):
    """Run the CLI to the end; its peak memory comes from wait4 on this very child."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [*(command or [sys.executable, "-m", "orchestrator.cli"]), *args],
            env=env or environment(),
            stdout=popen.pop("stdout", out),
            stderr=err,
            preexec_fn=_limit_address_space,
            **popen,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Finished(
            process.returncode, out.read().decode(), err.read().decode(), usage.ru_maxrss
        )


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def plan_refused(path: Path, env: dict[str, str] | None = None) -> tuple[str, Finished]:
    """`orchestrator plan PATH` refused a bad file: exit 2 and one line, returned."""
    finished = cli("plan", str(path), env=env)
    line = finished.one_error_line()
    assert finished.code == 2
    return line, finished


# 1. The shipped sweep files plan through the installed command.


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda path: path.name)
def test_installed_command_plans_every_shipped_sweep_as_table_and_json(sweep: Path, tmp_path):
    assert INSTALLED, "the `orchestrator` console script is not installed beside python"
    env = environment(tmp_path / "ws")
    table = cli("plan", str(sweep), env=env, command=[INSTALLED])
    assert table.code == 0, table.stderr
    assert "Estimated cost" in table.stdout and table.stderr == ""
    as_json = cli("plan", str(sweep), "--format", "json", env=env, command=[INSTALLED])
    assert as_json.code == 0, as_json.stderr
    plan = json.loads(as_json.stdout)
    assert plan["jobs"] and plan["estimate"]["cpu_hours"] > 0


# 2. Alias bombs and huge grids are refused at once, in bounded memory.

BILLION_LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_yaml_alias_bomb_is_refused_in_bounded_memory(tmp_path):
    text = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    path = write(tmp_path, "bomb.yaml", text + BILLION_LAUGHS + "name: bomb\nexperiments: []\n")
    assert path.stat().st_size < 1000  # expands to 9**9 (387 million) values
    line, finished = plan_refused(path)
    assert str(path) in line and "ORCHESTRATOR_MAX_YAML_NODES" in line
    assert finished.peak_kb < PEAK_MEMORY_LIMIT_KB


def test_grid_of_a_billion_points_is_refused_before_it_is_built(tmp_path):
    data = tiny_sweep_data("huge")
    data["experiments"][0]["grid"] = {
        "seed": list(range(1000)),
        "mask_seed": list(range(1000)),
        "training.steps": list(range(1, 1001)),
    }
    path = write(tmp_path, "huge.yaml", yaml.safe_dump(data))
    line, finished = plan_refused(path)
    assert f"{path}:" in line and "experiments[0].grid" in line
    assert "1,000,000,000" in line and "ORCHESTRATOR_MAX_GRID_POINTS" in line
    assert finished.peak_kb < PEAK_MEMORY_LIMIT_KB


def test_grid_limit_is_a_setting_and_counts_every_experiment(tmp_path):
    data = tiny_sweep_data("two")
    second = {**data["experiments"][0], "name": "again", "grid": {"seed": [3, 4]}}
    data["experiments"].append(second)
    path = write(tmp_path, "two.yaml", yaml.safe_dump(data))
    line, _ = plan_refused(path, environment(ORCHESTRATOR_MAX_GRID_POINTS="3"))
    assert "experiments[1].grid" in line
    planned = cli(
        "plan", str(path), "--format", "json", env=environment(ORCHESTRATOR_MAX_GRID_POINTS="4")
    )
    assert planned.code == 0, planned.stderr
    assert len(json.loads(planned.stdout)["jobs"]) == 4 * 5  # train, 3 fits, evaluate per point


def test_file_larger_than_the_limit_is_refused_without_reading_it_all(tmp_path):
    path = write(tmp_path, "long.yaml", "name: long\n" + "# padding\n" * 1000)
    line, _ = plan_refused(path, environment(ORCHESTRATOR_MAX_SWEEP_FILE_BYTES="5000"))
    assert "ORCHESTRATOR_MAX_SWEEP_FILE_BYTES" in line


# 3. Files that are not UTF-8 text.


@pytest.mark.parametrize(
    "content",
    [
        b"name: caf\xe9\nexperiments: []\n",  # Latin-1
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4,  # binary
        b"name: x\x00y\nexperiments: []\n",  # a NUL byte in UTF-8 text
    ],
    ids=["latin1", "binary", "nul"],
)
def test_file_that_is_not_utf8_text_is_one_line_and_exit_2(tmp_path, content):
    path = write(tmp_path, "odd.yaml", content)
    line, _ = plan_refused(path)
    assert str(path) in line


# 4. Services, workspace, Ctrl-C, closed pipes: one line, a known code.


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> tuple[Path, Path]:
    """(workspace, sweep file) of the tiny sweep, submitted once in process-local mode."""
    folder = tmp_path_factory.mktemp("finished")
    sweep = write(folder, "tiny.yaml", yaml.safe_dump(tiny_sweep_data("tiny", seeds=(1,))))
    done = cli("submit", str(sweep), "--executor", "local", env=environment(folder / "ws"))
    assert done.code == 0, done.stderr
    return folder / "ws", sweep


@pytest.mark.parametrize(
    "uri, words",
    [
        ("http://127.0.0.1:{port}", "does not answer"),
        ("http://alice:hunter2@127.0.0.1:{port}", "carries credentials"),
        ("notascheme://x", "MLflow"),
        ("http://127.0.0.1:99999", "not a valid URI"),
    ],
)
def test_unusable_tracking_uri_is_one_line_and_exit_2(tmp_path, uri, words):
    sweep = write(tmp_path, "t.yaml", yaml.safe_dump(tiny_sweep_data("t", seeds=(1,))))
    env = environment(tmp_path / "ws", MLFLOW_TRACKING_URI=uri.format(port=free_port()))
    finished = cli("submit", str(sweep), "--executor", "local", env=env)
    line = finished.one_error_line()
    assert finished.code == 2
    assert words in line and "MLFLOW_TRACKING_URI" in line
    assert "hunter2" not in finished.stdout + finished.stderr


@pytest.mark.parametrize("kind", ["file", "under_a_file", "in_proc", "read_only"])
def test_unusable_workspace_is_one_line_naming_the_setting(kind, tmp_path):
    if kind == "read_only" and os.geteuid() == 0:
        pytest.skip("root writes through a read-only mode (the in_proc case covers it)")
    sweep = write(tmp_path, "w.yaml", yaml.safe_dump(tiny_sweep_data("w", seeds=(1,))))
    workspace = {
        "file": tmp_path / "w.yaml",
        "under_a_file": tmp_path / "w.yaml" / "ws",
        "in_proc": Path("/proc/orchestrator-workspace"),  # no one may create folders there
        "read_only": tmp_path / "ws",
    }[kind]
    if kind == "read_only":
        workspace.mkdir(mode=0o555)
    finished = cli("submit", str(sweep), "--executor", "local", env=environment(workspace))
    assert finished.code == 2
    assert f"ORCHESTRATOR_WORKSPACE={workspace}" in finished.one_error_line()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def interrupt_after(args: list[str], env: dict[str, str], cpu_s: float) -> Finished:
    """Start the CLI, send SIGINT once it has worked `cpu_s` CPU seconds, wait for the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell's background job ignores SIGINT, and a child would inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    while process.poll() is None and _cpu_seconds(process.pid) < cpu_s:
        time.sleep(0.05)
    assert process.poll() is None, "the command finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    return Finished(process.returncode, stdout, stderr, 0)


def test_ctrl_c_during_plan_is_one_line_and_exit_130(tmp_path):
    data = tiny_sweep_data("long")
    data["experiments"][0]["grid"] = {"seed": list(range(50_000))}
    sweep = write(tmp_path, "long.yaml", yaml.safe_dump(data))
    finished = interrupt_after(["plan", str(sweep)], environment(tmp_path / "ws"), cpu_s=3.0)
    assert finished.code == 130
    assert finished.one_error_line() == "error: interrupted"


def test_ctrl_c_during_submit_is_one_line_and_exit_130(tmp_path):
    data = tiny_sweep_data("slow", seeds=(1,))
    data["experiments"][0]["training"].update(steps=1_000_000, log_every=1000)
    sweep = write(tmp_path, "slow.yaml", yaml.safe_dump(data))
    args = ["submit", str(sweep), "--executor", "local"]
    finished = interrupt_after(args, environment(tmp_path / "ws"), cpu_s=12.0)
    assert finished.code == 130
    assert "submit again to resume" in finished.last_line_is_the_error()


def test_ctrl_c_while_results_starts_is_one_line_and_exit_130(finished_sweep):
    workspace, _ = finished_sweep
    finished = interrupt_after(["results", "tiny"], environment(workspace), cpu_s=0.5)
    assert finished.code == 130
    assert finished.one_error_line() == "error: interrupted"


@pytest.mark.parametrize(
    "args", [["results", "tiny", "--format", "json"], ["results", "tiny"], ["plan", "{sweep}"]]
)
def test_closed_pipe_drops_output_silently_with_exit_141(finished_sweep, args):
    workspace, sweep = finished_sweep
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, like `| head -0`
    try:
        argv = [arg.format(sweep=sweep) for arg in args]
        finished = cli(*argv, env=environment(workspace), stdout=write_end)
    finally:
        os.close(write_end)
    assert finished.code == 141
    assert finished.stderr == ""


@pytest.mark.parametrize(
    "change, field",
    [
        ({"grid": {"seed": [1, 2**64]}}, "experiments[0].grid.seed"),
        ({"mask_seed": 2**63}, "experiments[0].mask_seed"),
        ({"task": {"name": "addmul", "data_seed": -1}}, "task.data_seed"),
        ({"mask_fit": {"data_order_seeds": [1, 2**40]}}, "mask_fit.data_order_seeds[1]"),
    ],
    ids=["grid_seed", "mask_seed", "task_seed", "data_order_seed"],
)
def test_plan_refuses_seeds_no_generator_takes(tmp_path, change, field):
    """Such seeds planned fine and crashed `submit` itself (OverflowError in torch)."""
    data = tiny_sweep_data("seeds")
    data["experiments"][0].update(change)
    path = write(tmp_path, "seeds.yaml", yaml.safe_dump(data))
    line, _ = plan_refused(path)
    assert str(path) in line and field in line


@pytest.mark.parametrize("split", ["train_size", "validation_size"])
def test_plan_refuses_splits_too_small_for_every_target_to_have_samples(tmp_path, split):
    """With one sample the add or the mul subset is empty: the job failed at run time."""
    data = tiny_sweep_data("tiny_split")
    data["experiments"][0]["task"][split] = 1
    path = write(tmp_path, "split.yaml", yaml.safe_dump(data))
    line, _ = plan_refused(path)
    assert f"task.{split}" in line and "32" in line


# 5. Included files and duplicate keys.


def test_typo_in_an_included_file_names_that_file_line_and_field(tmp_path):
    write(
        tmp_path,
        "part.yaml",
        "experimentz:\n  - {name: e2, task: {name: addmul}, model: {name: fnn}}\n",
    )
    main = write(
        tmp_path,
        "main.yaml",
        "name: x\ninclude: part.yaml\nexperiments:\n"
        "  - {name: e, task: {name: addmul}, model: {name: fnn}}\n",
    )
    line, _ = plan_refused(main)
    assert f"{tmp_path / 'part.yaml'}:1: experimentz: unknown field" in line
    assert "experiments" in line


def test_duplicate_key_names_file_line_and_first_line(tmp_path):
    path = write(
        tmp_path,
        "dup.yaml",
        "name: x\nexperiments:\n  - name: e\n    task: {name: addmul}\n"
        "    model: {name: fnn}\n    task: {name: double_add}\n",
    )
    line, _ = plan_refused(path)
    assert f"{path}:6: experiments[0].task: duplicate key (first at line 4)" in line


def test_files_that_include_the_next_one_twice_are_refused_at_once(tmp_path):
    """25 such files would be read 2**25 times; a file is included once per sweep."""
    for depth in range(25):
        write(tmp_path, f"f{depth}.yaml", f"include: [f{depth + 1}.yaml, f{depth + 1}.yaml]\n")
    write(tmp_path, "f25.yaml", "experiments: []\n")
    main = write(tmp_path, "main.yaml", "name: x\ninclude: f0.yaml\nexperiments: []\n")
    line, _ = plan_refused(main)
    assert f"{tmp_path / 'f24.yaml'}:1: include[1]:" in line and "already included" in line


@pytest.mark.parametrize(
    "section, change, field",
    [
        (
            "evaluation",
            {"variants": ["half_mask"], "half_mask_early": ["encoder"]},
            "half_mask_early",
        ),
        ("mask_fit", {"fixed_from_control": ["output"]}, "fixed_from_control"),
    ],
)
def test_plan_refuses_tensor_names_the_model_does_not_have(tmp_path, section, change, field):
    """These planned fine; the fit failed at run time, and the half-mask test silently
    kept the control mask on no tensor."""
    data = tiny_sweep_data("names")
    data["experiments"][0][section].update(change)
    path = write(tmp_path, "names.yaml", yaml.safe_dump(data))
    line, _ = plan_refused(path)
    assert f"{section}.{field}" in line and "0.weight, 2.weight, 4.weight" in line


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "{sweep}", "--cpus", "0"],  # divided by zero in the cost line
        ["plan", "{sweep}", "--cpus", "nan"],  # printed NaN, which is not JSON
        ["plan", "{sweep}", "--gpus", "-1"],
        ["plan", "{sweep}", "--bogus"],
        ["no-such-command"],
        [],
    ],
    ids=["zero_cpus", "nan_cpus", "negative_gpus", "unknown_option", "unknown_command", "none"],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args):
    sweep = write(tmp_path, "a.yaml", yaml.safe_dump(tiny_sweep_data("a", seeds=(1,))))
    finished = cli(*[arg.format(sweep=sweep) for arg in args])
    assert finished.code == 2
    assert "--help" in finished.one_error_line()
