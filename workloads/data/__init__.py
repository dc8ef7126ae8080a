"""One module per data set; each registers its config class in `workloads.registry`."""
