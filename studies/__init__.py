"""Multi-stage studies built from the agents: the pre-train-then-transfer pipeline."""
