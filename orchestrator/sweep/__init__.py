"""The sweep file and its spec: reading YAML safely, validating it, the cross-field checks."""
