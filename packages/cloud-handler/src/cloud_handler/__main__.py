"""``python -m cloud_handler`` runs the CLI."""

from cloud_handler.cli import app

app(prog_name="cloud-handler")
