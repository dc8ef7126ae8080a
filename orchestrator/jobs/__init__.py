"""What one job does wherever it runs: the lifecycle, and one module per job kind."""
