"""What the planner hands to drivers and workers: jobs, their typed configs, plans."""
