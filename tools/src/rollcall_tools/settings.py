"""What a deployment sets for tools: environment variables, read once per command.

The shared names of CONTRIBUTING.md: where the stack is (``AWS_REGION``, ``AWS_PROFILE``,
``ROLLCALL_ENDPOINT_URL``, ``ROLLCALL_STACK``, ``ROLLCALL_TABLE``, ``ROLLCALL_BUCKET``), which
recognizer (``ROLLCALL_MODEL_DIR``, ``ROLLCALL_MODEL_S3_URI``, ``ROLLCALL_BACKBONE``,
``ROLLCALL_WEIGHTS``), where ``tools local`` keeps its state (``ROLLCALL_STATE_DIR``), and
the shared data ``tools course`` defaults to (``ROLLCALL_SHARED_DATA``).
Everything else (sizes, counts, output format, paths of inputs and outputs) is a command
option only. An option given on the command line wins over the variable.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from rollcall_tools.aws import DEFAULT_REGION
from rollcall_tools.errors import ConfigError
from rollcall_tools.local.state import DEFAULT_STATE_DIR
from rollcall_tools.stack.names import DEFAULT_STACK

ENV_PREFIX = "ROLLCALL_"


class Settings(BaseSettings):
    """tools' settings (``ROLLCALL_<FIELD>``, and AWS's own names for region and profile)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    region: str = Field(
        default=DEFAULT_REGION,
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"),
        description="AWS region of the stack",
    )
    profile: str | None = Field(
        default=None, validation_alias="AWS_PROFILE", description="AWS credentials profile"
    )
    endpoint_url: str | None = Field(
        default=None, description="AWS endpoint, e.g. the local moto server (default: AWS)"
    )
    stack: str = Field(default=DEFAULT_STACK, description="resource-name prefix")
    table: str | None = Field(default=None, description="students table (<stack>-students)")
    bucket: str | None = Field(
        default=None, description="the upload bucket, when deployed with --input-bucket"
    )
    model_dir: Path | None = Field(default=None, description="exported recognizer artifact")
    model_s3_uri: str | None = Field(default=None, description="the artifact in S3")
    backbone: str | None = Field(default=None, description="embedding network to enroll with")
    weights: Path | None = Field(default=None, description="weights file of a torch backbone")
    state_dir: Path = Field(default=DEFAULT_STATE_DIR, description="the local stack's state")
    shared_data: Path | None = Field(
        default=None, description="../shared/data: the course's videos for `tools course`"
    )


def load_settings() -> Settings:
    """The settings, read from the environment now; a bad value is a :class:`ConfigError`
    naming its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            _variable(error["loc"]) + f": {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"tools configuration: {problems}") from None


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable of a field (its alias for region and profile)."""
    name = str(loc[0]) if loc else "?"
    return name.upper() if name.upper().startswith("AWS_") else ENV_PREFIX + name.upper()
