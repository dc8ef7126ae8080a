"""Evaluation of a trained model and its masks: what to evaluate, and every record of it."""
