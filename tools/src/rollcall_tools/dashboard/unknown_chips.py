"""Live's pictures of unknown faces: the chip the handler stored for each unknown face of a
clip (:mod:`cloud_handler.unknowns`), found by the clip's key in the face library's unknown
partition and kept per key once found.

The handler stores a clip's chips before it publishes the clip's result, but a row may still
be rendered before they are readable (or after they expired): a key found without chips is
asked again after :data:`MISS_RETRY_S`, and the event stream waits up to
:data:`STREAM_WAIT_S` for a row's chips before it sends the row without them. Chips move
when their cluster is enrolled (or go when it is dismissed): the dashboard's own changes of
the library forget what was found, and what was found is asked again after
:data:`FOUND_TTL_S` (a change made by `tools faces`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rollcall_tools.errors import ToolsError
from rollcall_tools.faces.library import Library

PER_CLIP = 4
"""Chips shown per result at most (one per unknown person)."""
MISS_RETRY_S = 5.0
"""A key found without chips is not asked again for this long (a page of such rows costs
one Query, not one per render)."""
FOUND_TTL_S = 60.0
"""Chips found are shown this long without asking again."""
STREAM_WAIT_S = 1.5
"""How long the event stream waits for a new row's chips (in :data:`STREAM_TRIES` tries)."""
STREAM_TRIES = 3
CAPACITY = 2_000


@dataclass
class UnknownChips:
    """Chip keys (in the face store) of the unknown faces of each clip, by the clip's key."""

    library: Callable[[], Library]
    clock: Callable[[], float] = time.monotonic
    capacity: int = CAPACITY
    _found: OrderedDict[str, tuple[float, list[str]]] = field(default_factory=OrderedDict)
    _missed: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, keys: Iterable[str], *, again: bool = False) -> dict[str, list[str]]:
        """The chips of those of ``keys`` that have any (one Query for all the keys not
        known yet; none when the library cannot be read: the rows show no picture).
        ``again``: ask for keys missed lately too."""
        now, found = self.clock(), {}
        with self._lock:
            ask = set()
            for key in set(keys):
                when, chips = self._found.get(key, (-FOUND_TTL_S, []))
                if now - when < FOUND_TTL_S:
                    found[key] = chips
                elif again or now - self._missed.get(key, -MISS_RETRY_S) >= MISS_RETRY_S:
                    ask.add(key)
        if not ask:
            return found
        try:
            got = self.library().unknown_chips(ask)
        except ToolsError:
            got = {}
        with self._lock:
            for key in ask:
                if key in got:
                    found[key] = got[key][:PER_CLIP]
                    self._found[key] = (now, found[key])
                    self._missed.pop(key, None)
                else:
                    self._found.pop(key, None)
                    self._missed[key] = now
            while len(self._found) > self.capacity:
                self._found.popitem(last=False)
            if len(self._missed) > self.capacity:
                self._missed = {k: t for k, t in self._missed.items() if now - t < MISS_RETRY_S}
        return found

    def forget(self) -> None:
        """Ask again for every key (the library's unknown faces changed)."""
        with self._lock:
            self._found.clear()
            self._missed.clear()
