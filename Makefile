# The README's commands. Each target is idempotent: the venv is (re)installed only when
# pyproject.toml changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_ENV := RAY_AUTH_MODE=disabled RAY_USAGE_STATS_ENABLED=0 RAY_AIR_NEW_OUTPUT=0 \
	MLFLOW_DISABLE_TELEMETRY=true PYTHONHASHSEED=0

.PHONY: install run test test-slow bench lint typecheck clean browser

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import torch, ray, mlflow, pyarrow, pydantic, safetensors"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/orchestrator submit sweeps/smoke.yaml
	$(BIN)/orchestrator analyze smoke

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# mypy on orchestrator/, workloads/ and analysis/ ([tool.mypy] in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(TEST_ENV) $(BIN)/python -m pytest -q

test-slow: lint browser
	$(TEST_ENV) $(BIN)/python -m pytest -q -m slow

# Headless Chromium for the report-in-a-browser test (Debian packages); without it that
# test is skipped with a message saying so.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
		echo "chromium/chromedriver not installed: the report browser test will be skipped"

bench: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m benchmarks.mask_speed

clean:
	rm -rf .orchestrator benchmarks/out
