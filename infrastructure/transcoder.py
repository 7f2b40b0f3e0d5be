"""The applications' transcoder: the library's JSON, written by orjson and read by msgspec.

A batch's state holds its events as one large JSON string, and the library's encoder (the
standard `json` module) escaping it was a large share of the API's CPU per request; orjson
writes the same JSON in a fraction of that time. The output is the library's format
(custom types as `{"_type_": …, "_data_": …}`), so events stored before and after read alike.

Only values whose JSON the two encoders agree on go to orjson: exact `str`, `int`, `float`
(finite), `bool`, `None`, `dict` with `str` keys, `list` and `tuple`, and the registered types.
Anything else (a str subclass, NaN, an integer past 64 bits, a key that is not a string…) is left
to the library's encoder whole, which says what it always said.

Reading is msgspec's: replaying a log decodes every stored state, and the library's `json` decoder
spent ~3 s of a 1M-event rebuild unescaping the batches' events strings (500 MB of state); msgspec
takes a third of that. (orjson reads integers past 64 bits as floats, so it does not read.) JSON
that msgspec refuses and the standard library accepts (NaN, Infinity, numbers out of a float's
range, lone surrogates) goes to the library's decoder.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import orjson
from eventsourcing.persistence import JSONTranscoder

from domain.batch import JsonText

_SCALARS = (str, int, bool, type(None))
JSON_TEXT = b'{"_type_":"json_text","_data_":'  # how _plain writes a JsonText, up to its JSON
_MEMBERS = msgspec.json.Decoder(dict[str, msgspec.Raw])


class _NotPlain(Exception):
    """A value orjson might write differently from the library's encoder."""


class FastJSONTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_NotPlain, orjson.JSONEncodeError, RecursionError):
            return super().encode(obj)

    def _plain(self, value: Any) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is float:
            if not math.isfinite(value):
                raise _NotPlain  # json writes NaN and Infinity, orjson null
            return value
        if kind is dict:
            plain = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise _NotPlain  # json turns some keys into strings, orjson refuses them
                plain[key] = self._plain(item)
            return plain
        if kind is list or kind is tuple:
            return [self._plain(item) for item in value]
        transcoding = self.types.get(kind)
        if transcoding is None:
            raise _NotPlain
        if kind is JsonText and value[:1] in ("[", "{"):  # orjson wrote it: valid JSON, embedded
            # as it is. Any other JSON text (a string, a number) goes as a string, below, so that
            # reading never mistakes an embedded JSON string for the library's spelling.
            return {"_type_": transcoding.name, "_data_": orjson.Fragment(str(value))}
        return {"_type_": transcoding.name, "_data_": self._plain(transcoding.encode(value))}

    def decode(self, data: bytes) -> Any:
        try:
            members = _MEMBERS.decode(data)  # a state: an object, its members still JSON
        except msgspec.DecodeError:  # not an object, or not JSON msgspec reads
            return self._decode_whole(data)
        if "_type_" in members:  # a transcoded value itself, not a state
            return self._decode_whole(data)
        return {key: self._member(raw) for key, raw in members.items()}

    def _member(self, raw: msgspec.Raw) -> Any:
        view = memoryview(raw)
        if view[:len(JSON_TEXT)] == JSON_TEXT and view[len(JSON_TEXT):len(JSON_TEXT) + 1] != b'"':
            return str(view[len(JSON_TEXT):-1], "utf-8")  # the text (orjson reads no subclass)
        try:
            value = msgspec.json.decode(view)
        except msgspec.DecodeError:  # NaN and the like: this member alone to the library
            return super().decode(bytes(view))
        return self._revive(value) if isinstance(value, dict | list) else value

    def _decode_whole(self, data: bytes) -> Any:
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
