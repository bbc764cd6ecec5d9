"""A reader of dlib's binary serialization (``dlib/serialize.h``, ``dlib/cuda/tensor.h``).

Only what dlib's DNN files use: integers, bools, strings, floats, tensors and alias
tensors. Every error is a :class:`WeightsError` naming the source, the byte offset and
what was expected there.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from face_model.errors import WeightsError

# float_details' special exponents (dlib/float_details.h); any exponent above is NaN too
_EXP_INF: Final = 32000
_EXP_NINF: Final = 32001
# integer header byte: low nibble = byte count, 0x80 = negative, 0x70 = always 0
_SIZE_MASK: Final = 0x0F
_NEG_BIT: Final = 0x80
_RESERVED_BITS: Final = 0x70
_TENSOR_VERSION: Final = 2
_ALIAS_TENSOR_VERSION: Final = 1


class DlibReader:
    """Sequential reader over one buffer of dlib-serialized bytes, tracking the offset."""

    def __init__(self, data: bytes, source: str = "<bytes>") -> None:
        self._data = memoryview(data).cast("B")
        self._offset = 0
        self.source = source

    @property
    def offset(self) -> int:
        """Byte offset of the next read."""
        return self._offset

    @property
    def remaining(self) -> int:
        """Bytes left after the offset."""
        return len(self._data) - self._offset

    def error(self, message: str, offset: int | None = None) -> WeightsError:
        """A WeightsError naming the source and the byte offset (default: the current one)."""
        at = self._offset if offset is None else offset
        return WeightsError(f"{self.source}: byte {at}: {message}")

    def read_bytes(self, n: int, what: str) -> memoryview:
        """The next ``n`` bytes; WeightsError if fewer remain."""
        if n < 0 or n > self.remaining:
            raise self.error(
                f"expected {what} ({n} bytes) but only {self.remaining} bytes remain "
                "(truncated file?)"
            )
        start = self._offset
        self._offset += n
        return self._data[start : self._offset]

    def peek_bytes(self, n: int) -> bytes:
        """Up to ``n`` bytes from the offset (fewer at the end), without consuming them."""
        return bytes(self._data[self._offset : self._offset + n])

    def peek_byte(self, what: str) -> int:
        """The next byte, without consuming it."""
        if self.remaining < 1:
            raise self.error(f"expected {what} but the file ends here (truncated file?)")
        return int(self._data[self._offset])

    def peek_string(self) -> str | None:
        """The string at the offset if one fits there (else None), without consuming it."""
        start = self._offset
        try:
            return self.read_string()
        except WeightsError:
            return None
        finally:
            self._offset = start

    def read_int(self, what: str = "an integer", *, width: int = 8, signed: bool = True) -> int:
        """One of dlib's packed integers, for a C type of ``width`` bytes."""
        start = self._offset
        header = self.peek_byte(what)
        size = header & _SIZE_MASK
        negative = bool(header & _NEG_BIT)
        if header & _RESERVED_BITS or size == 0 or size > width:
            raise self.error(
                f"expected {what} (a {width}-byte integer) but found header byte 0x{header:02x}"
            )
        if negative and not signed:
            raise self.error(f"expected {what} (unsigned) but found a negative integer")
        magnitude = int.from_bytes(self.read_bytes(1 + size, what)[1:], "little")
        limit = 1 << (8 * width - (1 if signed else 0))
        if magnitude > limit or (magnitude == limit and not negative):
            raise self.error(f"{what} = {magnitude} does not fit {width} bytes", start)
        return -magnitude if negative else magnitude

    def read_uint(self, what: str = "an unsigned integer", *, width: int = 8) -> int:
        """An unsigned packed integer (``unsigned long``, ``size_t``...)."""
        return self.read_int(what, width=width, signed=False)

    def read_bool(self, what: str = "a bool") -> bool:
        """A bool: the ASCII character '1' or '0'."""
        start = self._offset
        byte = bytes(self.read_bytes(1, what))
        if byte not in (b"0", b"1"):
            raise self.error(f"expected {what} ('0' or '1') but found {byte!r}", start)
        return byte == b"1"

    def read_string(self, what: str = "a string") -> str:
        """A string: its length (an unsigned long), then its bytes (read as Latin-1)."""
        n = self.read_uint(f"the length of {what}")
        return bytes(self.read_bytes(n, what)).decode("latin-1")

    def read_float(self, what: str = "a float", *, single: bool = False) -> float:
        """A float or double: int64 mantissa, int16 exponent (``float_details``).

        ``single`` rounds like dlib deserializing into a C ``float``. Exponents 32000,
        32001 and above mean +inf, -inf and NaN. dlib's pre-2013 text encoding (a first
        byte with any of the bits 0x70 set) is refused.
        """
        if self.peek_byte(what) & _RESERVED_BITS:
            raise self.error(f"expected {what} but found dlib's legacy text float encoding")
        mantissa = self.read_int(f"the mantissa of {what}", width=8)
        exponent = self.read_int(f"the exponent of {what}", width=2)
        if exponent >= _EXP_INF:
            if exponent == _EXP_INF:
                return math.inf
            return -math.inf if exponent == _EXP_NINF else math.nan
        if single:
            with np.errstate(over="ignore", under="ignore"):
                return float(np.ldexp(np.float32(mantissa), np.int32(exponent)))
        try:
            return math.ldexp(float(mantissa), exponent)
        except OverflowError:
            return math.copysign(math.inf, mantissa)

    def read_dims(self, what: str) -> tuple[int, int, int, int]:
        """Four non-negative long longs: num_samples, k, nr, nc."""
        dims = tuple(self.read_int(f"{what}: dimension {i}") for i in range(4))
        if any(d < 0 for d in dims):
            raise self.error(f"{what}: negative dimension in {dims}")
        return dims  # type: ignore[return-value]

    def read_tensor(self, what: str = "a tensor") -> np.ndarray:
        """A ``resizable_tensor``: version 2, n, k, nr, nc, then little-endian float32."""
        start = self._offset
        version = self.read_int(f"the version of {what}")
        if version != _TENSOR_VERSION:
            raise self.error(f"expected {what} of version {_TENSOR_VERSION}, got {version}", start)
        dims = self.read_dims(what)
        count = math.prod(dims)
        raw = self.read_bytes(4 * count, f"the {count} float32 values of {what} {dims}")
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(dims)

    def read_alias_tensor(self, what: str = "an alias tensor") -> tuple[int, int, int, int]:
        """An ``alias_tensor`` (a shape, no data): version 1, n, k, nr, nc."""
        start = self._offset
        version = self.read_int(f"the version of {what}")
        if version != _ALIAS_TENSOR_VERSION:
            raise self.error(
                f"expected {what} of version {_ALIAS_TENSOR_VERSION}, got {version}", start
            )
        return self.read_dims(what)
