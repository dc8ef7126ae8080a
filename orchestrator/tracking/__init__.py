"""MLflow tracking: a client that survives an outage by journaling its writes to the store."""
