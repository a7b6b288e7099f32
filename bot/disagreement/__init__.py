"""Disagreements and the escalation ladder: recorded, put before the right forum, moved up when left unsettled."""
