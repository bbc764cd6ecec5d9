"""``python -m edge_capture`` runs the CLI."""

from edge_capture.cli import app

app(prog_name="edge-capture")
