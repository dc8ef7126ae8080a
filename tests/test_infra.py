"""The files in infra/ parse, and the fields that tie them to this project agree.

Nothing here starts a cluster or builds an image: the checks are on the files themselves
(the Ray launcher config against the JSON schema Ray ships, the KubeRay manifests and the
compose file against each other, pyproject.toml and the orchestrator's settings).
"""

from __future__ import annotations

import importlib.util
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from orchestrator.settings import Settings

REPO = Path(__file__).parents[1]
INFRA = REPO / "infra"
LAUNCHER = INFRA / "ray-cluster.yaml"
RAYCLUSTER = INFRA / "kuberay" / "raycluster.yaml"
RAYJOB = INFRA / "kuberay" / "rayjob.yaml"
DOCKERFILE = INFRA / "Dockerfile"
COMPOSE = INFRA / "tracking" / "compose.yaml"
ENV_EXAMPLE = INFRA / "tracking" / ".env.example"

GCS_PORT = 6379
DASHBOARD_PORT = 8265
MLFLOW_PORT = 5000

# Words in an environment variable's name that mark its value as a credential.
CREDENTIAL_WORDS = ("SECRET", "PASSWORD", "TOKEN", "ACCESS_KEY")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def project_pin(package: str) -> str:
    """The exact `package==version` requirement from pyproject.toml."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if re.fullmatch(rf"{package}(\[[^\]]*\])?==[\w.]+", d)]
    assert len(pins) == 1, f"pyproject.toml pins {package} {len(pins)} times: {pins}"
    return re.sub(r"\[[^\]]*\]", "", pins[0])


def kuberay_spec(path: Path) -> dict[str, Any]:
    document = load(path)
    return document["spec"]["rayClusterSpec"] if document["kind"] == "RayJob" else document["spec"]


def pod_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    groups = [spec["headGroupSpec"], *spec["workerGroupSpecs"]]
    return [c for group in groups for c in group["template"]["spec"]["containers"]]


def worker_group(spec: dict[str, Any], name: str) -> dict[str, Any]:
    (group,) = [g for g in spec["workerGroupSpecs"] if g["groupName"] == name]
    return group


def kuberay_custom_resources(group: dict[str, Any]) -> dict[str, float]:
    # KubeRay passes the value to `ray start --resources` verbatim: a JSON string in quotes.
    return json.loads(json.loads(group["rayStartParams"]["resources"]))


def compose_default(value: str) -> str:
    """A compose value with every `${NAME:-default}` replaced by its default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in INFRA.rglob("*") if p.suffix in (".yaml", ".yml")),
    ids=lambda p: str(p.relative_to(INFRA)),
)
def test_every_yaml_file_in_infra_parses(path: Path) -> None:
    documents = list(yaml.safe_load_all(path.read_text()))
    assert documents and all(isinstance(d, dict) for d in documents)


def test_infra_holds_the_expected_files() -> None:
    for path in (LAUNCHER, RAYCLUSTER, RAYJOB, DOCKERFILE, COMPOSE, ENV_EXAMPLE):
        assert path.is_file(), path


def test_dockerfile_builds_on_python_311_with_pyprojects_torch_pin() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11(-slim)?\b", text, re.MULTILINE)
    assert project_pin("torch") == "torch==2.13.0"
    assert re.search(
        rf"pip install .*--index-url \S+ {re.escape(project_pin('torch'))}$", text, re.M
    )
    assert "ARG TORCH_INDEX_URL=" in text
    assert re.search(r"^RUN pip install --no-deps \.", text, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert text.rstrip().endswith('CMD ["orchestrator", "--help"]')


def test_cluster_launcher_config_follows_rays_schema() -> None:
    # Find the schema file without importing ray (seconds saved).
    (ray_folder,) = importlib.util.find_spec("ray").submodule_search_locations
    schema = json.loads((Path(ray_folder) / "autoscaler" / "ray-schema.json").read_text())
    jsonschema.validate(load(LAUNCHER), schema)


def test_cluster_launcher_worker_bounds_fit_the_global_maximum() -> None:
    config = load(LAUNCHER)
    workers = {
        name: node_type
        for name, node_type in config["available_node_types"].items()
        if name != config["head_node_type"]
    }
    assert workers
    for node_type in workers.values():
        assert 0 <= node_type["min_workers"] <= node_type["max_workers"] <= config["max_workers"]
    # Ray refuses a config whose minimums add up past the global maximum.
    assert sum(t["min_workers"] for t in workers.values()) <= config["max_workers"]


def test_cluster_launcher_head_runs_no_jobs_and_serves_dashboard_on_loopback() -> None:
    config = load(LAUNCHER)
    head = config["available_node_types"][config["head_node_type"]]
    assert head["resources"]["CPU"] == 0
    start = " ".join(config["head_start_ray_commands"])
    assert f"--port={GCS_PORT}" in start
    assert "--dashboard-host=127.0.0.1" in start
    assert f"--dashboard-port={DASHBOARD_PORT}" in start
    assert Settings.model_fields["dashboard_port"].default == DASHBOARD_PORT
    assert any(f":{GCS_PORT}" in command for command in config["worker_start_ray_commands"])


def test_cluster_launcher_mounts_the_package_it_installs() -> None:
    config = load(LAUNCHER)
    local_paths = {Path(p).name for p in config["file_mounts"].values()}
    assert {"pyproject.toml", "orchestrator", "workloads", "analysis", "configs"} <= local_paths
    for remote, local in config["file_mounts"].items():
        if not local.startswith("~"):
            assert (REPO / local).exists(), f"file_mounts {remote}: {local} is not in the repo"
    assert any("pip install" in c and "~/modularity-sweeps" in c for c in config["setup_commands"])


def test_node_type_labels_agree_between_launcher_and_kuberay() -> None:
    launcher = load(LAUNCHER)["available_node_types"]
    kuberay = kuberay_spec(RAYCLUSTER)
    assert launcher["gpu_worker"]["node_config"]["InstanceType"].startswith(("g", "p"))
    for launcher_type, group_name in (("gpu_worker", "gpu"), ("cpu_worker", "cpu")):
        assert launcher[launcher_type]["resources"] == kuberay_custom_resources(
            worker_group(kuberay, group_name)
        )
        assert (
            launcher[launcher_type]["min_workers"]
            == worker_group(kuberay, group_name)["minReplicas"]
        )


def test_gpu_worker_group_asks_for_an_nvidia_gpu_and_the_cpu_group_does_not() -> None:
    spec = kuberay_spec(RAYCLUSTER)
    (gpu_container,) = worker_group(spec, "gpu")["template"]["spec"]["containers"]
    assert gpu_container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    (cpu_container,) = worker_group(spec, "cpu")["template"]["spec"]["containers"]
    assert "nvidia.com/gpu" not in cpu_container["resources"]["limits"]
    (head_container,) = spec["headGroupSpec"]["template"]["spec"]["containers"]
    assert "nvidia.com/gpu" not in head_container["resources"]["limits"]
    assert spec["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"


def test_rayjob_runs_orchestrator_submit_on_a_sweep_in_configs() -> None:
    spec = load(RAYJOB)["spec"]
    program, command, sweep = spec["entrypoint"].split()
    assert (program, command) == ("orchestrator", "submit")
    # Relative paths resolve against ./configs/ (orchestrator/sweep/sweepfile.py).
    assert (REPO / "configs" / sweep).is_file(), f"no configs/{sweep} for the RayJob to run"
    assert spec["shutdownAfterJobFinishes"] is True
    assert yaml.safe_load(spec["runtimeEnvYAML"])["working_dir"] == "/app"
    assert re.search(r"^WORKDIR /app$", DOCKERFILE.read_text(), re.MULTILINE)


def test_rayjob_creates_the_same_cluster_as_raycluster() -> None:
    assert kuberay_spec(RAYJOB) == kuberay_spec(RAYCLUSTER)


def test_one_image_runs_everywhere() -> None:
    images = {
        c["image"] for path in (RAYCLUSTER, RAYJOB) for c in pod_containers(kuberay_spec(path))
    }
    images.add(load(LAUNCHER)["docker"]["image"])
    assert len(images) == 1, images


def test_kuberay_ports_and_versions_match_the_project() -> None:
    spec = kuberay_spec(RAYCLUSTER)
    (head,) = spec["headGroupSpec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in head["ports"]}
    assert ports["gcs-server"] == GCS_PORT
    assert ports["dashboard"] == DASHBOARD_PORT
    assert project_pin("ray") == f"ray=={spec['rayVersion']}"
    tracking_uri = next(e["value"] for e in head["env"] if e["name"] == "MLFLOW_TRACKING_URI")
    assert tracking_uri.endswith(f":{MLFLOW_PORT}")
    assert spec["authOptions"]["mode"] == "token"


def test_kuberay_credentials_come_from_secrets() -> None:
    for path in (RAYCLUSTER, RAYJOB):
        for container in pod_containers(kuberay_spec(path)):
            names = set()
            for variable in container["env"]:
                names.add(variable["name"])
                if any(word in variable["name"] for word in CREDENTIAL_WORDS):
                    assert "value" not in variable, f"{path.name}: {variable['name']} is literal"
                    assert "secretKeyRef" in variable["valueFrom"]
            assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= names


def test_no_file_in_infra_holds_a_credential() -> None:
    aws_key_id = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
    aws_secret = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
    for path in (p for p in INFRA.rglob("*") if p.is_file()):
        text = path.read_text()
        assert not aws_key_id.search(text), path
        assert not aws_secret.search(text), path
    for line in ENV_EXAMPLE.read_text().splitlines():
        name, _, value = line.partition("=")
        if value and any(word in name for word in CREDENTIAL_WORDS):
            assert value.startswith("change-me"), f".env.example {name} is not a placeholder"


def test_compose_mlflow_uses_postgres_and_proxies_artifacts_to_s3() -> None:
    services = load(COMPOSE)["services"]
    mlflow = services["mlflow"]
    assert mlflow["environment"]["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql://")
    assert any(a.startswith("--artifacts-destination=s3://") for a in mlflow["command"])
    assert "--serve-artifacts" in mlflow["command"]
    assert f"--port={MLFLOW_PORT}" in mlflow["command"]
    assert project_pin("mlflow") in mlflow["build"]["dockerfile_inline"]
    assert mlflow["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "create-buckets": {"condition": "service_completed_successfully"},
    }
    assert services["create-buckets"]["depends_on"]["minio"]["condition"] == "service_healthy"
    for name in ("postgres", "minio", "mlflow"):
        assert services[name]["healthcheck"]["test"], name


def test_compose_publishes_ports_on_loopback_by_default() -> None:
    services = load(COMPOSE)["services"]
    published = {
        compose_default(port): name
        for name, service in services.items()
        for port in service.get("ports", [])
    }
    assert f"127.0.0.1:{MLFLOW_PORT}:{MLFLOW_PORT}" in published
    for port in published:
        assert port.startswith("127.0.0.1:"), port
    assert "ports" not in services["postgres"]


def test_compose_credentials_come_from_the_env_file() -> None:
    services = load(COMPOSE)["services"]
    for service in services.values():
        for name, value in (service.get("environment") or {}).items():
            if any(word in name for word in CREDENTIAL_WORDS):
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", value), name
    read = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", COMPOSE.read_text()))
    defined = {
        line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line
    }
    assert read <= defined, f"compose.yaml reads {sorted(read - defined)}, not in .env.example"
