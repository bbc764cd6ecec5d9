"""The bucket choices of `tools deploy` and `tools local up`: the upload bucket's name, an
optional output bucket and its format (what the CSE 546 course's workload generator needs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rollcall_tools.errors import ConfigError
from rollcall_tools.stack.names import check_bucket_name

OutputFormat = Literal["course", "json"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("course", "json")


@dataclass(frozen=True)
class Buckets:
    """``--input-bucket``, ``--output-bucket``, ``--output-format``."""

    input_bucket: str | None = None
    """The upload bucket's name (None: the generated ``<stack>-clips-<account>-<region>``)."""
    output_bucket: str | None = None
    """One output object per answered object goes here (None: no output bucket)."""
    output_format: OutputFormat = "course"
    """``course``: ``<stem>.txt`` holding ``name,major,year``; ``json``: the full result."""

    @classmethod
    def from_options(
        cls, input_bucket: str | None, output_bucket: str | None, output_format: str = "course"
    ) -> Buckets:
        """The choices as given on a command line (a bad one is a ConfigError)."""
        if output_format not in OUTPUT_FORMATS:
            raise ConfigError(f"--output-format must be course or json, not {output_format!r}")
        return cls(input_bucket, output_bucket, output_format)

    def __post_init__(self) -> None:
        if self.output_format not in OUTPUT_FORMATS:
            raise ConfigError(f"--output-format must be course or json, not {self.output_format!r}")
        if self.input_bucket is not None:
            check_bucket_name(self.input_bucket, "--input-bucket")
        if self.output_bucket is not None:
            check_bucket_name(self.output_bucket, "--output-bucket")
            if self.output_bucket == self.input_bucket:
                raise ConfigError(
                    "--output-bucket must differ from --input-bucket: the handler would be "
                    "notified of its own output"
                )

    def names(self) -> dict[str, str | None]:
        """The keyword arguments of ``Stack.resolve`` (and ``StackNames``) they set."""
        return {"input_bucket": self.input_bucket, "output_bucket": self.output_bucket}
