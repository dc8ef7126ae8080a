"""Statistics, figures and the report, computed from the Parquet result tables."""
