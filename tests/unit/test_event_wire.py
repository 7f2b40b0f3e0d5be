"""The one-pass batch check accepts exactly what the per-event rules accept, with the same result."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from application.stored_batches import encode
from domain.batch import JsonText
from domain.time import micros
from domain.tracked_event import (
    CANONICAL_UUID,
    TrackedEvent,
    check_event,
    parse_timestamp,
    timestamp_micros,
)
from interfaces.rest.event_wire import valid_batch

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
UUID = "01912345-6789-7abc-def0-123456789abc"


def reference(batch: list[Any]) -> list[TrackedEvent] | None:
    """What the per-event path makes of a batch: every event, or None if any is refused."""
    checked = [check_event(raw, NOW) for raw in batch]
    return None if any(isinstance(e, list) for e in checked) else checked  # type: ignore[return-value]


texts = st.one_of(st.text(max_size=3), st.text(min_size=126, max_size=130),
                  st.text(min_size=255, max_size=258), st.sampled_from(["", "é" * 128, "😀" * 129]))
uuids = st.one_of(st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()),
                  st.uuids().map(lambda u: u.hex), st.uuids().map(lambda u: f"{{{u}}}"),
                  st.sampled_from(["not-a-uuid", UUID + "0", ""]),
                  # 36 characters, not all canonical: the one-pass check matches ids in bulk
                  st.text(alphabet="0123456789abcdefABCDEF-\n", min_size=36, max_size=36),
                  st.uuids().map(lambda u: str(u)[1:] + "\n"), st.uuids().map(lambda u: str(u)[:35] + "é"))
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2027, 1, 1),
                       timezones=st.sampled_from([None, UTC]))
timestamps = st.one_of(
    moments.map(datetime.isoformat), moments.map(lambda m: m.isoformat().replace("+00:00", "Z")),
    st.sampled_from([(NOW + timedelta(hours=24)).isoformat(), (NOW + timedelta(hours=24, seconds=1))
                     .isoformat(), "2026-03-20", "2026-03-20 10:00", "yesterday", "2026-13-01T00:00:00",
                     "2026-03-20T10:00:00+05:30", "2026-03-20T10:00:00.1234567Z"]))
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=2),
                                                       st.dictionaries(st.text(max_size=2), inner,
                                                                       max_size=2)), max_leaves=8)
properties = st.one_of(st.none(), st.dictionaries(st.text(max_size=4), values, max_size=4),
                       st.dictionaries(st.text(min_size=1, max_size=4), st.just(1), min_size=99,
                                       max_size=102), st.lists(scalars, max_size=2), scalars)
# Most fields valid most of the time, so batches of valid events are common too.
fields = {
    "event_id": st.one_of(st.uuids().map(str), uuids), "category": st.one_of(st.just("c"), texts),
    "name": st.one_of(st.just("n"), texts), "timestamp": st.one_of(st.just("2026-03-01T00:00:00Z"),
                                                                   timestamps),
    "actor_id": st.one_of(st.just("a"), texts, st.integers()),
    "source_app": st.one_of(st.none(), st.just("web"), texts),
    "source_version": st.one_of(st.none(), texts), "session_id": st.one_of(st.none(), uuids),
    "properties": properties,
}
events = st.fixed_dictionaries({}, optional=fields).map(
    lambda e: {k: v for k, v in e.items()})  # any field may be missing
valid_events = st.fixed_dictionaries({"event_id": st.uuids().map(str)}, optional={
    "session_id": st.uuids().map(str), "properties": properties}).map(
    lambda e: {"category": "c", "name": "n", "timestamp": "2026-03-01T10:00:00Z", "actor_id": "a", **e})


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(events, valid_events), min_size=1, max_size=4))
def test_a_batch_passes_the_one_pass_check_exactly_when_every_event_is_valid(batch: list[Any]) -> None:
    body = json.dumps(batch).encode()  # any integer, any character
    assert valid_batch(body, NOW) in (None, reference(orjson.loads(body)))
    if valid_batch(body, NOW) is None and (expected := reference(orjson.loads(body))) is not None:
        # refused here but valid event by event: the slow path accepts it, so nothing is lost;
        # only spellings the one-pass check leaves to that path may land here
        assert any(not _plain(raw) for raw in orjson.loads(body)), expected


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_events, min_size=1, max_size=4))
def test_batches_of_plainly_valid_events_take_the_one_pass_check(batch: list[Any]) -> None:
    body = json.dumps(batch).encode()
    if all(_plain(raw) for raw in batch):
        assert valid_batch(body, NOW) == reference(orjson.loads(body))


def _plain(raw: Any) -> bool:
    """Spelled the way the one-pass check reads directly: canonical UUIDs, properties whose
    integers fit in 64 bits (signed) and that orjson can parse."""
    def plain_uuid(value: Any) -> bool:
        return value is None or (isinstance(value, str) and CANONICAL_UUID.fullmatch(value) is not None)

    def fits(value: Any) -> bool:
        if isinstance(value, dict):
            return all(fits(v) for v in value.values())
        if isinstance(value, list):
            return all(fits(v) for v in value)
        return not isinstance(value, int) or isinstance(value, bool) or -(2**63) <= value < 2**63

    return plain_uuid(raw.get("event_id")) and plain_uuid(raw.get("session_id")) and \
        fits(raw.get("properties"))


def test_the_seed_spelling_and_nested_properties_take_the_one_pass_check() -> None:
    batch = [{"event_id": UUID.upper(), "category": "reports", "name": "report_exported",
              "timestamp": "2026-03-20T14:30:00+02:00", "actor_id": "user-123",
              "properties": {"format": "pdf", "nested": {"a": [1, {"b": None}]}}},
             {"event_id": UUID.replace("0", "1"), "category": "c", "name": "n",
              "timestamp": "2026-03-20T14:30:00", "actor_id": "a", "unknown": "ignored"}]
    checked = valid_batch(orjson.dumps(batch), NOW)
    assert checked == reference(batch)
    assert checked is not None and checked[0].timestamp == datetime(2026, 3, 20, 12, 30, tzinfo=UTC)


def test_anything_wrong_leaves_the_batch_to_the_per_event_path() -> None:
    good = {"event_id": UUID, "category": "c", "name": "n", "timestamp": "2026-03-20T10:00:00Z",
            "actor_id": "a"}
    for body in (b"[", b"{}", b"[]", orjson.dumps([good] * 1001), b"[" * 3000 + b"]" * 3000,
                 orjson.dumps([good, {**good, "timestamp": "2026-03-22T10:00:00Z"}]),
                 orjson.dumps([{**good, "properties": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}])):
        assert valid_batch(body, NOW) is None


# Any year and any offset fromisoformat reads, so the edges of the calendar are reached too.
offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                        max_value=timedelta(hours=23, minutes=59))
any_moments = st.datetimes(timezones=st.one_of(st.none(), st.just(UTC), offsets.map(timezone)))
spellings = st.one_of(
    any_moments.map(datetime.isoformat), any_moments.map(lambda m: m.isoformat(sep=" ")),
    any_moments.map(lambda m: m.isoformat(timespec="minutes")),
    any_moments.map(lambda m: m.isoformat().replace("+00:00", "Z")),
    any_moments.map(lambda m: m.date().isoformat()),
    st.from_regex(r"\A[0-9]{4}-?[0-9W]{2}-?[0-9]{2}([T ][0-9:.,]{2,15})?([zZ]|[+-][0-9:.]{2,15})?\Z"),
    st.text(alphabet="0123456789-:.+TZW ", min_size=10, max_size=40),
    st.sampled_from(["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "0001-01-01T00:00:00-00:01",
                     "9999-12-31T23:59:59.999999+00:00", "2026-03-20T10:00:00+05:30:15.5"]))


@settings(max_examples=2000, deadline=None)
@given(spellings.filter(lambda text: 10 <= len(text) <= 40))
def test_the_hot_paths_timestamp_is_parse_timestamps_to_the_microsecond(text: str) -> None:
    parsed = parse_timestamp(text)
    assert timestamp_micros(text) == (None if parsed is None else micros(parsed))


def test_a_timestamp_whose_offset_leaves_the_calendar_is_not_a_timestamp() -> None:
    for text in ("0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"):
        assert parse_timestamp(text) is None and timestamp_micros(text) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_events, min_size=1, max_size=4))
def test_a_batch_is_stored_as_its_events_fields_in_order(batch: list[Any]) -> None:
    """The stored record of a batch (`encode`) is each TrackedEvent's fields, in declaration
    order, exactly as the dataclass itself serialises: batches stored before and after read alike."""
    checked = reference(orjson.loads(json.dumps(batch)))  # as a body reads: no int past 64 bits
    assume(checked is not None)  # properties that are not an object, or too many of them
    assert checked is not None
    stored = orjson.loads(str(encode(checked)))
    assert stored == [dataclasses.asdict(event) for event in checked]
    names = [f.name for f in dataclasses.fields(TrackedEvent)]
    assert [list(record) for record in stored] == [names] * len(batch)
    assert encode(checked) == orjson.dumps(checked).decode()
    assert isinstance(encode(checked), JsonText)  # stored as the JSON it is (infrastructure/transcoder.py)
