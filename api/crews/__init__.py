"""Field crews: the teams that receive work orders and sync them to their tablets."""
