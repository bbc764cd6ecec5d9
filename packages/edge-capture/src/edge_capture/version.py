"""The package version (also sent to S3 as the clip's ``edge_version``)."""

__version__ = "0.2.0"
