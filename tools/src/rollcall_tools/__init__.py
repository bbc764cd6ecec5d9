"""rollcall_tools: deploy the AWS stack, seed DynamoDB, build the image, run the local demo."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed distribution's metadata on first use."""
    if name == "__version__":
        from importlib.metadata import version

        return version("rollcall-tools")
    raise AttributeError(f"module 'rollcall_tools' has no attribute {name!r}")
