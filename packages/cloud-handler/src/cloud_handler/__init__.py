"""cloud_handler."""
