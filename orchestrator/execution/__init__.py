"""Running a plan: the driver (`submit`), the executors (Ray, in-process), local Ray, clusters."""
