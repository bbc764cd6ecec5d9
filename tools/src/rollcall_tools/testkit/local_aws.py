"""The test kit's local AWS: moto in server mode in its own process (rollcall's one launcher,
:class:`rollcall_tools.local.moto.MotoServer`), with dummy credentials for the test process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from rollcall_tools.aws import DEFAULT_REGION, LOCAL_CREDENTIALS
from rollcall_tools.local.moto import MotoServer

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
    "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
}


@contextmanager
def local_aws() -> Iterator[str]:
    """A real HTTP endpoint on 127.0.0.1 for as long as the block runs; its URL.

    Dummy credentials are set in this process's environment when none are (never real
    ones: the endpoint is moto).
    """
    for name, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    with MotoServer() as url:
        yield url
