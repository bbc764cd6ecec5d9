"""The optional output object: one per answered object, in an output bucket of its own.

With ``ROLLCALL_OUTPUT_BUCKET`` set, the answering step writes ``<key without its
extension>.txt`` (format ``course``) or ``.json`` (format ``json``) there before it publishes
the result, so a redelivery after a failed publish overwrites the same key with the same
content and a replayed (already answered) object writes nothing. The output bucket is
never notified: the handler's own writes cannot trigger it.

The ``course`` format is the CSE 546 class's: one line ``name,major,year`` per identified
person with a record, in order of first appearance. The course's client expects one object
per video, so every other answer writes one line too, with the status in the name column
and the other two empty: ``unknown,,`` (faces, none enrolled), ``no_face,,``, ``error,,``
(the ``json`` format holds the why); a person recognized without a record in the students
table writes ``name,,``.
"""

from __future__ import annotations

from typing import Any, Literal

from shared_schema import RecognitionResult

OutputFormat = Literal["course", "json"]
"""``course``: ``<stem>.txt`` holding ``name,major,year``; ``json``: ``<stem>.json``, the
full result."""
S3_KEY_MAX_BYTES = 1024
_SUFFIX: dict[str, str] = {"course": ".txt", "json": ".json"}
_CONTENT_TYPE: dict[str, str] = {"course": "text/plain; charset=utf-8", "json": "application/json"}


def output_key(key: str, output_format: OutputFormat) -> str:
    """``key`` with its last extension replaced: ``test_0.mp4`` -> ``test_0.txt``; folders
    are kept (``clips/cam1/s1/x.mp4`` -> ``clips/cam1/s1/x.txt``)."""
    folder, slash, name = key.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return f"{folder}{slash}{stem}{_SUFFIX[output_format]}"


def course_text(result: RecognitionResult) -> str:
    """The course's ``name,major,year`` lines (see the module docstring)."""
    lines: list[str] = []
    for face in result.faces:
        if face.identity is None:
            continue
        record = face.record
        line = f"{face.identity},{record.major},{record.year}" if record else f"{face.identity},,"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines) or f"{result.status.value},,"


def render(result: RecognitionResult, output_format: OutputFormat) -> str:
    """The output object's body."""
    return course_text(result) if output_format == "course" else result.to_message()


def write_output(
    s3: Any, bucket: str, output_format: OutputFormat, result: RecognitionResult
) -> str | None:
    """``PutObject`` the result's output object; returns its key. Nothing is written (None)
    when the answered object is itself in the output bucket (a notification configured on it
    by hand would otherwise loop) or when the key would pass S3's 1024 bytes.

    Raises:
        botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError: S3 refused or
            stayed unreachable after botocore's retries (the answering step fails and the
            object is answered again on its redelivery).
    """
    key = output_key(result.clip.key, output_format)
    if result.clip.bucket == bucket or len(key.encode()) > S3_KEY_MAX_BYTES:
        return None
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=render(result, output_format).encode(),
        ContentType=_CONTENT_TYPE[output_format],
    )
    return key
