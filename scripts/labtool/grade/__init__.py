"""`scripts/lab grade`: the grader, as a package with one job per module (see command.py)."""
