"""Pure rules of enrichment: what is kept of a client, visitor ids, the canonical form, devices."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

from application.enrichment import canonical_event, content_hash
from domain.enrichment import Client, anonymised, context_client, visitor_id
from infrastructure.user_agents import UserAgentParser

WORKSPACE = UUID("8c4f6a1e-0000-4000-8000-000000000001")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36")


def test_the_address_is_kept_anonymised_unless_the_workspace_opts_in() -> None:
    client = Client("81.2.69.160", "curl/8")
    assert client.stored(store_ip=False) == {"network": "81.2.69.0", "user_agent": "curl/8"}
    assert client.stored(store_ip=True) == {"network": "81.2.69.0", "ip": "81.2.69.160",
                                            "user_agent": "curl/8"}
    assert anonymised("2001:db8:1234:5678::1") == "2001:db8:1234::"
    assert anonymised("testclient") is None
    # An IPv4 client a dual-stack listener saw as ::ffff:a.b.c.d keeps its IPv4 network.
    assert Client("::ffff:81.2.69.160", None).stored(store_ip=False) == {"network": "81.2.69.0"}


def test_a_visitor_id_depends_on_salt_workspace_address_and_user_agent() -> None:
    one = visitor_id(b"salt", WORKSPACE, Client("81.2.69.160", IPHONE))
    assert one == visitor_id(b"salt", WORKSPACE, Client("81.2.69.160", IPHONE))
    assert one.startswith("visitor_") and len(one) == len("visitor_") + 32
    others = {visitor_id(b"other", WORKSPACE, Client("81.2.69.160", IPHONE)),
              visitor_id(b"salt", UUID(int=1), Client("81.2.69.160", IPHONE)),
              visitor_id(b"salt", WORKSPACE, Client("81.2.69.161", IPHONE)),
              visitor_id(b"salt", WORKSPACE, Client("81.2.69.160", WINDOWS))}
    assert one not in others and len(others) == 4


def test_an_sdk_names_the_client_in_the_events_context_and_nonsense_there_is_ignored() -> None:
    assert context_client({"context": {"ip": "81.2.69.160", "user_agent": "x"}}) == \
        Client("81.2.69.160", "x")
    assert context_client({"context": {"ip": "nowhere", "user_agent": 7}}) is None
    assert context_client({"context": "81.2.69.160"}) is None
    assert context_client({"context": {"ip": "::ffff:81.2.69.160"}}) == Client("81.2.69.160", None)


def test_the_content_hash_is_sha256_of_the_documented_canonical_form() -> None:
    record = {"event_id": "01912345-6789-7abc-def0-123456789abc", "category": "reports",
              "name": "report_exported", "timestamp_us": 1_774_017_000_000_000,
              "actor_id": "user-123", "source_app": "MyApp", "source_version": "1.2.0",
              "properties": {"row_count": "1500", "format": "pdf"}, "session_id": None}
    # Written out by hand, as an operator would from what the client sent.
    expected = {"actor_id": "user-123", "category": "reports",
                "event_id": "01912345-6789-7abc-def0-123456789abc", "name": "report_exported",
                "properties": {"format": "pdf", "row_count": "1500"}, "session_id": None,
                "source_app": "MyApp", "source_version": "1.2.0",
                "timestamp": "2026-03-20T14:30:00.000000Z"}
    canonical = json.dumps(expected, sort_keys=True, separators=(",", ":")).encode()
    assert canonical_event(record) == canonical
    assert content_hash(canonical_event(record)) == hashlib.sha256(canonical).hexdigest()
    assert b'"actor_id":null' in canonical_event(record, anonymous=True)


def test_the_canonical_form_writes_text_as_utf8_and_numbers_in_their_shortest_form() -> None:
    record = {"event_id": "e", "category": "c", "name": "n", "timestamp_us": 0, "actor_id": "a",
              "properties": {"city": "Zürich", "ratio": 1.5e-7, "big": 1e21, "n": 3, "x": 0.1}}
    # As docs/decisions/enrichment-pipeline.md spells it out (Python's json.dumps would write
    # 1.5e-07, and escape the ü unless told not to).
    assert canonical_event(record) == (
        '{"actor_id":"a","category":"c","event_id":"e","name":"n","properties":{"big":1e+21,'
        '"city":"Zürich","n":3,"ratio":1.5e-7,"x":0.1},"session_id":null,"source_app":null,'
        '"source_version":null,"timestamp":"1970-01-01T00:00:00.000000Z"}').encode()


def test_browser_os_and_device_type_come_from_the_user_agent() -> None:
    parser = UserAgentParser()
    phone = parser.describe(IPHONE)
    assert (phone.browser, phone.os, phone.device_type) == ("Mobile Safari", "iOS", "mobile")
    desktop = parser.describe(WINDOWS)
    assert (desktop.browser, desktop.os, desktop.device_type) == ("Chrome", "Windows", "desktop")
    bot = parser.describe("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    assert bot.device_type == "bot"
    assert parser.describe(None).browser is None


def test_the_canonical_time_is_the_instants_utc_iso_form_on_any_day() -> None:
    record = {"event_id": "01912345-6789-7abc-def0-123456789abc", "category": "c", "name": "n",
              "actor_id": "a"}
    instants = [datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
                datetime(1970, 1, 1, tzinfo=UTC), datetime(2024, 2, 29, 23, 59, 59, 1, tzinfo=UTC),
                datetime(2026, 3, 20, 14, 30, 0, 500_000, tzinfo=UTC),
                datetime(2026, 12, 31, 0, 0, 1, tzinfo=UTC)]
    for instant in instants:
        micros = (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        canonical = json.loads(canonical_event({**record, "timestamp_us": micros}))
        assert canonical["timestamp"] == instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
