"""``face-model fetch-weights``: facenet-pytorch's published InceptionResnetV1 weights."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from face_model.cli.common import fail, friendly_errors, out, progress_bar

NameArg = Annotated[str, typer.Argument(help="Published weights: vggface2 or casia-webface.")]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="File to write (default: ./<release name>)."),
]
Sha256Opt = Annotated[str | None, typer.Option(help="Expected sha256 of the file.")]
UrlOpt = Annotated[str | None, typer.Option(help="Download from here (mirror) instead.")]
NoVerifyOpt = Annotated[
    bool,
    typer.Option("--no-verify", help="Keep the file without a sha256 to check against."),
]
CheckLoadOpt = Annotated[
    bool,
    typer.Option(help="Check that the file loads into InceptionResnetV1 strictly."),
]
TimeoutOpt = Annotated[float, typer.Option(help="Network timeout (s).")]


def fetch_weights(
    name: NameArg = "vggface2",
    out_file: OutOpt = None,
    sha256: Sha256Opt = None,
    url: UrlOpt = None,
    no_verify: NoVerifyOpt = False,
    check_load: CheckLoadOpt = True,
    timeout: TimeoutOpt = 60.0,
) -> None:
    """Download facenet-pytorch's InceptionResnetV1 weights (VGGFace2 or CASIA-WebFace),
    verified by sha256; exit 3 when the server is unreachable."""
    from face_model.fetch import PUBLISHED, check_loads, download

    if name not in PUBLISHED:
        fail(f"unknown weights {name!r}; choose one of: {', '.join(PUBLISHED)}")
    published = PUBLISHED[name]
    expected = sha256 or published.sha256
    if expected is None and not no_verify:
        fail(
            f"no sha256 is pinned for {published.filename}: pass --sha256 HEX "
            "(from a trusted source) or --no-verify to accept the file unverified"
        )
    target = out_file or Path.cwd() / published.filename
    with friendly_errors():
        with progress_bar() as progress:
            task = progress.add_task(f"fetching {target.name}", total=None)
            digest = download(
                url or published.url,
                target,
                sha256=expected,
                timeout=timeout,
                on_progress=lambda done, size: progress.update(
                    task, completed=done, total=size or None
                ),
            )
        if check_load:
            check_loads(target)
    status = "verified" if expected else "UNVERIFIED"
    out.print(f"wrote {target} (sha256 {digest}, {status})")
