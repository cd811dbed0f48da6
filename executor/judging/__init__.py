"""The trusted side of judging: what test text means and how it is evaluated."""
