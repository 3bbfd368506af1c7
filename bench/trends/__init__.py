"""Runs against runs: regressions against the comparable earlier runs, the index of every run, two runs side by
side, and which runs keep their raw output."""
