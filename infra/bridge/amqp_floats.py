"""Decode AMQP float and double header fields as floats: pika 1.3/1.4 truncates them to int.

pika's `decode_value` reads kinds `f` and `d` with `long(...)`, so `1.5` arrives as `1` and NaN or infinity raise
ValueError/OverflowError inside pika's frame decoding: outside any handler of the bridge, with the message's
delivery tag lost. The RabbitMQ Java client behind AWS's MQ poller decodes them as Float/Double. `install()`
wraps pika's decoder for those two kinds only; every other kind is pika's own code.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pika.data

_FLOAT_KINDS: dict[bytes, tuple[str, int]] = {b"f": (">f", 4), b"d": (">d", 8)}
_Decoder = Callable[[bytes, int], tuple[Any, int]]


def _with_floats(decode: _Decoder) -> _Decoder:
    def decode_value(encoded: bytes, offset: int) -> tuple[Any, int]:
        kind = encoded[offset : offset + 1]
        if kind in _FLOAT_KINDS:
            layout, size = _FLOAT_KINDS[kind]
            return float(struct.unpack_from(layout, encoded, offset + 1)[0]), offset + 1 + size
        return decode(encoded, offset)

    decode_value.wrapped = decode  # type: ignore[attr-defined]
    return decode_value


def install() -> None:
    """Idempotent: pika's tables and arrays look `decode_value` up in `pika.data` on every call."""
    if not hasattr(pika.data.decode_value, "wrapped"):
        pika.data.decode_value = _with_floats(pika.data.decode_value)
