"""Searching mask-fit settings (beta, mask learning rate, steps) for the sparsest mask that
still solves a target function: the space, the objective and one trial's fit."""
