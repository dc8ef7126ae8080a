"""Helpers the tests share: the tiny sweep, real processes and services, tiny data files.

Tests import them as `from support.sweeps import tiny_sweep_data` (`tests/` is on pytest's
`pythonpath`); the `conftest.py` files hold fixtures only.
"""
