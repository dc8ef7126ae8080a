"""One module per architecture; each registers its config class in `workloads.registry`."""
