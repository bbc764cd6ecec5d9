"""edge_capture."""
