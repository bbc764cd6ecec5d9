"""``tools faces``: the face library in the stack - enroll, list, correct and forget people
while it runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from rollcall_tools.cli_common import Json, ModelDir, Where, located
from rollcall_tools.errors import ConfigError, JobFailedError
from rollcall_tools.faces.library import Library
from rollcall_tools.output import err, handles_errors, out, print_json

faces_app = typer.Typer(
    help="The face library in the stack: enroll, list, rename, merge, remove, import people "
    "(a change reaches every warm handler within seconds).",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The person's name, as results carry it.")]


def _library(where: Where) -> Library:
    stack = where.resolve()
    return Library(stack.target, stack.names)


def _json_lines(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row) + "\n")
    sys.stdout.flush()


PathsOpt = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Photos, or folders of photos, each showing the person alone.",
        show_default=False,
    ),
]
FromUnknownOpt = Annotated[
    str | None,
    typer.Option(
        "--from-unknown",
        help="Enroll this cluster of unknown faces (an id `tools faces unknown` printed) "
        "instead of photos.",
        show_default=False,
    ),
]
SubjectOpt = Annotated[
    bool,
    typer.Option(
        "--subject",
        help="Of a photo with several faces, enroll its subject (the largest, most central "
        "face) instead of skipping the photo; said for each such photo.",
    ),
]
AsJsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON object: `enrolled` and `skipped`."),
]


@faces_app.command("enroll")
@handles_errors
@located
def enroll(
    where: Where,
    name: Name,
    paths: PathsOpt = None,
    from_unknown: FromUnknownOpt = None,
    subject: SubjectOpt = False,
    model_dir: ModelDir = None,
    as_json: AsJsonOpt = False,
) -> None:
    """Enroll NAME from photos with the handler's own detection, alignment and embedding
    (one face per photo: photos with several faces or none are skipped and listed). Exit 0
    when at least one face was enrolled."""
    from rollcall_tools.faces.actions import check_name, enroll_photos
    from rollcall_tools.faces.networks import load_networks
    from rollcall_tools.faces.unknowns import enroll_cluster, find_cluster

    library = _library(where)
    if from_unknown is not None:
        if paths:
            raise ConfigError("give photos or --from-unknown CLUSTER, not both")
        moved = enroll_cluster(library, check_name(name), find_cluster(library, from_unknown))
        if as_json:
            print_json({"name": name, "enrolled": moved, "cluster": from_unknown})
        else:
            out.print(f"enrolled {moved} face(s) of cluster {from_unknown} as {name}")
        return
    if not paths:
        raise ConfigError("give photos (or folders of them) to enroll, or --from-unknown CLUSTER")
    done = enroll_photos(library, load_networks(model_dir, where), name, paths, subject=subject)
    if as_json:
        print_json(done.to_json())
    else:
        for skipped in done.skipped:
            err.print(f"[yellow]skipped[/] {skipped['path']}: {skipped['reason']}")
        for note in done.notes:
            err.print(f"{note['path']}: {note['note']}")
        out.print(f"enrolled {len(done.enrolled)} face(s) as {done.name}")
    if not done.has_record:
        err.print(
            f"note: the students table has no record of {done.name!r}: results will name "
            "them without major or year (`tools seed-db` adds records)"
        )
    if not done.enrolled:
        raise JobFailedError(f"no face enrolled as {done.name}: every photo was skipped")


@faces_app.command("list")
@handles_errors
@located
def list_people(
    where: Where,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="JSON Lines: one person per line (`name`, `embeddings`, `negatives`, "
            "`last_change`).",
        ),
    ] = False,
) -> None:
    """The people of the library: embeddings each, negative examples, last change."""
    people = _library(where).people()
    if as_json:
        _json_lines([p.to_json() for p in people])
        return
    if not people:
        out.print("nobody enrolled (enroll with `tools faces enroll NAME PHOTO...`)")
        return
    table = RichTable(box=None, header_style="bold")
    for column in ("name", "embeddings", "negatives", "last change"):
        table.add_column(column)
    for p in people:
        table.add_row(p.name, str(p.embeddings), str(p.negatives), p.last_change)
    out.print(table)


@faces_app.command("remove")
@handles_errors
@located
def remove(
    where: Where,
    name: Name,
    purge: Annotated[
        bool,
        typer.Option(
            "--purge",
            help="Also delete NAME's negative examples, the unknown faces that were "
            "closest to NAME and NAME's sightings (attendance): nothing of NAME stays.",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Remove NAME from the library (embeddings and their chips); exit 2 when NAME is not
    enrolled."""
    deleted = _library(where).remove(name, purge=purge)
    if as_json:
        print_json({"name": name, "deleted": deleted.to_json()})
        return
    parts = ", ".join(f"{v} {k}" for k, v in deleted.to_json().items())
    out.print(f"removed {name}: deleted {parts}")


@faces_app.command("rename")
@handles_errors
@located
def rename(
    where: Where,
    old: Annotated[str, typer.Argument(help="The enrolled name.")],
    new: Annotated[str, typer.Argument(help="The new name (not enrolled yet).")],
) -> None:
    """Rename a person; exit 2 when OLD is not enrolled or NEW already is."""
    from rollcall_tools.faces.actions import check_name

    moved = _library(where).rename(old, check_name(new))
    out.print(f"renamed {old} to {new} ({moved} embedding(s))")


@faces_app.command("merge")
@handles_errors
@located
def merge(
    where: Where,
    source: Annotated[str, typer.Argument(help="The person merged away.")],
    into: Annotated[str, typer.Argument(help="The person who keeps the name.")],
) -> None:
    """Merge SOURCE into INTO (the same person enrolled twice); exit 2 when either is not
    enrolled."""
    moved = _library(where).merge(source, into)
    out.print(f"merged {source} into {into} ({moved} embedding(s) moved)")


@faces_app.command("import")
@handles_errors
@located
def import_(
    where: Where,
    artifact: Annotated[
        Path, typer.Argument(help="A `face-model export` artifact directory with a gallery.")
    ],
    as_json: Json = False,
) -> None:
    """Enroll the gallery of an exported artifact into the library (its networks must be
    the handler's)."""
    from rollcall_tools.faces.actions import import_artifact

    counts = import_artifact(_library(where), artifact)
    if as_json:
        print_json({"imported": counts})
    else:
        out.print(
            f"imported {sum(counts.values())} embedding(s) of {len(counts)} person(s): "
            + ", ".join(counts)
        )


@faces_app.command("unknown")
@handles_errors
@located
def unknown(
    where: Where,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="JSON Lines: one cluster per line (`cluster`, `faces`, `first_seen`, "
            "`last_seen`, `devices`, `keys`).",
        ),
    ] = False,
    png: Annotated[
        Path | None,
        typer.Option(
            "--png", help="Write a contact sheet: one row per cluster.", show_default=False
        ),
    ] = None,
    dismiss_cluster: Annotated[
        str | None,
        typer.Option("--dismiss", help="Forget this cluster's faces.", show_default=False),
    ] = None,
) -> None:
    """Faces the handler could not name (kept for the stack's retention), grouped by person
    across clips and devices, newest first. Enroll one with `tools faces enroll NAME
    --from-unknown CLUSTER`."""
    from rollcall_tools.faces.unknowns import cluster, contact_sheet, dismiss, find_cluster

    library = _library(where)
    if dismiss_cluster is not None:
        forgot = dismiss(library, find_cluster(library, dismiss_cluster))
        out.print(f"dismissed cluster {dismiss_cluster} ({forgot} face(s))")
        return
    clusters = cluster(library.unknowns())
    if png is not None:
        contact_sheet(library, clusters, png)
        err.print(f"contact sheet: {png} ({len(clusters)} row(s))")
    if as_json:
        _json_lines([c.to_json() for c in clusters])
        return
    if not clusters:
        out.print("no unknown faces kept")
        return
    table = RichTable(box=None, header_style="bold")
    for column in ("cluster", "faces", "first seen", "last seen", "devices", "objects"):
        table.add_column(column, overflow="fold")
    for c in clusters:
        row = c.to_json()
        table.add_row(
            row["cluster"],
            str(row["faces"]),
            row["first_seen"],
            row["last_seen"],
            ", ".join(row["devices"]) or "-",
            ", ".join(row["keys"]),
        )
    out.print(table)


@faces_app.command("reject")
@handles_errors
@located
def reject(
    where: Where,
    key: Annotated[str, typer.Argument(help="The uploaded object's key (in the clips bucket).")],
    not_name: Annotated[
        str, typer.Option("--not", help="The person the face in KEY is not.", show_default=False)
    ],
    model_dir: ModelDir = None,
) -> None:
    """ "The person in KEY is not NAME": the face of KEY closest to NAME becomes a negative
    example of NAME; exit 2 when NAME is not enrolled or KEY is gone."""
    from rollcall_tools.faces.networks import load_networks
    from rollcall_tools.faces.reject import reject as add_negative

    stack = where.resolve()
    library = Library(stack.target, stack.names)
    recognizer = load_networks(model_dir, where)
    similarity = add_negative(library, recognizer, stack.names.bucket, key, not_name)
    out.print(
        f"the face of {key} (similarity {similarity:.2f} to {not_name}) is now a negative "
        f"example of {not_name}"
    )


@faces_app.command("bench")
@handles_errors
def bench(
    people: Annotated[
        int, typer.Option(min=1, max=200_000, help="People in the library.")
    ] = 10_000,
    per_person: Annotated[int, typer.Option(min=1, max=50, help="Embeddings per person.")] = 5,
    trials: Annotated[
        int, typer.Option(min=1, max=50, help="Changes timed to a warm reader (moto server).")
    ] = 5,
    threshold: Annotated[
        bool,
        typer.Option(
            "--threshold",
            help="Also measure genuine/impostor acceptance per threshold on colour camera "
            "faces from ROLLCALL_SHARED_DATA (how the default threshold was chosen).",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """The library's figures: load and match time of PEOPLE x PER_PERSON embeddings (against
    the same gallery from an artifact, peak memory beside), and the time a change takes to
    reach a warm reader."""
    from rollcall_tools.bench.library import change_to_warm, library_scale

    report: dict[str, Any] = {
        "scale": library_scale(people, per_person),
        "change": change_to_warm(trials),
    }
    if threshold:
        report["threshold"] = _threshold_figures()
    if as_json:
        print_json(report)
        return
    table = RichTable(box=None, header_style="bold", show_header=False)
    for section, figures in report.items():
        for name, value in figures.items():
            table.add_row(section, name, str(value))
    out.print(table)


def _threshold_figures() -> dict[str, Any]:
    import os
    import tempfile

    from face_model import Recognizer
    from face_model.artifact import export_networks
    from face_model.backbones import DEFAULT_BACKBONE
    from rollcall_tools.bench.threshold import colour_thresholds

    data = os.environ.get("ROLLCALL_SHARED_DATA")
    if not data or not Path(data, "cse546-videos").is_dir():
        raise ConfigError("--threshold needs ROLLCALL_SHARED_DATA (../shared/data)")
    with tempfile.TemporaryDirectory() as tmp:
        export_networks(DEFAULT_BACKBONE, Path(tmp) / "networks")
        recognizer = Recognizer.load(Path(tmp) / "networks", threads=1)
        return colour_thresholds(recognizer, Path(data))
