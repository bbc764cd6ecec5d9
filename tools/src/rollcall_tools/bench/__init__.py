"""``tools bench``: the handler measured against its targets and baselines."""
