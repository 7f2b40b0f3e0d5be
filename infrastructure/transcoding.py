"""The eventsourcing library's JSON transcoder, decoding with msgspec.

Replaying a log decodes every stored state. A Telemetry batch's state carries its events as one
JSON string of up to a megabyte, and the library's `json.JSONDecoder` spent ~3 s of a 1M-event
rebuild unescaping them (500 MB of state); msgspec does the same in a fraction of it. (orjson
would too, but reads integers past 64 bits as floats.) Encoding is left to the library: the fast
encoders write UUIDs and datetimes natively, bypassing the transcodings that bring them back.
"""

from __future__ import annotations

from typing import Any

import msgspec
from eventsourcing.persistence import JSONTranscoder


class FastJSONTranscoder(JSONTranscoder):
    """Decodes exactly as `JSONTranscoder` does: the same objects come back, transcodings
    (`{"_type_": ..., "_data_": ...}`) revived innermost first, as the library's object hook does.
    JSON that msgspec refuses and the standard library accepts (NaN, Infinity, numbers out of a
    float's range, lone surrogates) goes to the library's decoder."""

    def decode(self, data: bytes) -> Any:
        try:
            parsed = msgspec.json.decode(data)
        except msgspec.DecodeError:
            return super().decode(data)
        return self._revive(parsed)

    def _revive(self, value: Any) -> Any:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, dict | list):
                    value[key] = self._revive(item)
            return self._decode_obj(value)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict | list):
                    value[index] = self._revive(item)
        return value
