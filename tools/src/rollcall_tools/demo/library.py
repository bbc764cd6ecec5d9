"""The demo's people enrolled through the stack's face library, as `tools faces enroll`
would: the runner starts with the networks only and names them from the first clip on."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rollcall_tools.errors import ConfigError
from rollcall_tools.local.stack import local_target
from rollcall_tools.local.state import LocalState
from rollcall_tools.stack.names import StackNames


def enroll_gallery(
    state: LocalState, people: Mapping[str, Sequence[Path]], say: Callable[[str], None]
) -> list[str]:
    """Enroll every person of ``people`` (their photos; a group photo's subject) in the local
    stack's library with the runner's own networks; the names enrolled. Returns once the
    runner has had its poll interval to see the change (the demo's first clips name them)."""
    from cloud_handler.library import POLL_S
    from face_model import FaceModelError, Recognizer
    from rollcall_tools.faces.actions import enroll_photos
    from rollcall_tools.faces.library import Library

    if state.model_dir is None:
        raise ConfigError("the local stack runs detection only: nobody can be enrolled")
    try:
        recognizer = Recognizer.load(state.model_dir, threads=1)
    except FaceModelError as exc:
        raise ConfigError(f"{state.model_dir}: {exc}") from None
    names = StackNames(state.stack, state.region, str(state.outputs["account"]))
    library = Library(local_target(state.port, state.region), names)
    enrolled = []
    for person, photos in sorted(people.items()):
        done = enroll_photos(library, recognizer, person, list(photos), subject=True)
        for skipped in done.skipped:
            say(f"enrollment: skipped {skipped['path']}: {skipped['reason']}")
        if done.enrolled:
            enrolled.append(person)
            say(f"enrolled {person} through the face library ({len(done.enrolled)} face(s))")
    time.sleep(POLL_S + 0.5)  # a warm runner sees a library change within one poll
    return enrolled
