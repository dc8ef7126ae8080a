"""The `orchestrator` command and its subcommands (the console script runs `main`)."""

from orchestrator.cli.main import main

__all__ = ["main"]
