"""From a validated sweep to a plan: the job DAG with content-hashed ids, and its cost."""
