"""The control plane: specs, plans, Ray execution, MLflow tracking, stores and results."""

CODE_VERSION = "0.3.0"
