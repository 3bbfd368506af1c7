"""Records into figures: statistics and theory, the probes' verdicts against it, the sweep points and how close
they come to what physics allows, and the sentences that say how a burst was served."""
