"""cloud_handler: rollcall's Lambda function (see README.md)."""

__version__ = "0.2.0"
