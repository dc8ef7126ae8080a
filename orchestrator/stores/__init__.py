"""The artifact store (local or S3), its key layout, and what lives there: Parquet results,
tensors, checkpoints, leases and control signals."""
