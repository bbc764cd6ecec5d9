"""The test kit's clips: :mod:`rollcall_tools.clips`, which runtime code imports without
the test kit."""

from rollcall_tools.clips import (
    astronaut,
    encode_clip,
    encode_mp4,
    make_clip,
    place_faces,
    write_video,
)

__all__ = ["astronaut", "encode_clip", "encode_mp4", "make_clip", "place_faces", "write_video"]
