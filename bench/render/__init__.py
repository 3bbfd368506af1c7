"""Figures into words and pictures: report.md (its template, its first paragraph, its charts) and what a run
prints on the terminal."""
