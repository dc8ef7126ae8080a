"""A user's own package: a task and a model this repo knows nothing about.

Put the folder that holds `my_model/` (examples/my_model) on PYTHONPATH, then point a
sweep at `my_model.tasks:make_task` and `my_model.models:make_model`.
"""
