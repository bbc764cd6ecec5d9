"""The one-command demo: local stack, demo video or real clips, live results, summary."""
