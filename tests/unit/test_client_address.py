"""The client's address: the peer, or through trusted proxies only, the nearest untrusted hop."""

from __future__ import annotations

import ipaddress

from interfaces.rest.clients import client_address, networks

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("203.0.113.9", ["198.51.100.1"], []) == "203.0.113.9"


def test_an_untrusted_peer_cannot_claim_another_address() -> None:
    assert client_address("203.0.113.9", ["198.51.100.1"], PROXIES) == "203.0.113.9"


def test_a_trusted_proxy_names_the_client_it_received_from() -> None:
    assert client_address("10.0.0.2", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_hops_a_client_wrote_before_the_proxies_are_never_believed() -> None:
    # The client sent "X-Forwarded-For: 1.2.3.4"; the proxies appended what they saw.
    chain = ["1.2.3.4, 198.51.100.1", "10.1.1.1"]
    assert client_address("10.0.0.2", chain, PROXIES) == "198.51.100.1"


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_first_untrusted_hop() -> None:
    assert client_address("fd00::1", ["198.51.100.1, 10.0.0.7, fd00::9"], PROXIES) == "198.51.100.1"


def test_a_garbled_hop_stops_the_walk_at_the_last_trusted_one() -> None:
    assert client_address("10.0.0.2", ["198.51.100.1, not-an-ip"], PROXIES) == "10.0.0.2"


def test_trusted_proxies_are_read_as_cidr_networks() -> None:
    assert networks(" 10.0.0.0/8 ,fd00::/8") == tuple(PROXIES)


def test_a_dual_stack_listeners_ipv4_peer_is_an_ipv4_address() -> None:
    # Listening on `::`, an IPv4 peer arrives as ::ffff:a.b.c.d: still the trusted proxy it is.
    assert client_address("::ffff:10.0.0.2", ["198.51.100.1"], PROXIES) == "198.51.100.1"
    assert client_address("::ffff:203.0.113.9", ["198.51.100.1"], PROXIES) == "203.0.113.9"
    assert client_address("10.0.0.2", ["::FFFF:198.51.100.1"], PROXIES) == "198.51.100.1"


def test_a_trusted_network_written_mapped_into_ipv6_is_an_ipv4_network() -> None:
    assert networks("::ffff:10.0.0.0/104") == (ipaddress.ip_network("10.0.0.0/8"),)
    assert client_address("10.0.0.2", ["198.51.100.1"], networks("::ffff:10.0.0.0/104")) == \
        "198.51.100.1"


def test_no_address_is_no_client_address() -> None:
    assert client_address(None, ["198.51.100.1"], PROXIES) is None
    assert client_address("testclient", [], PROXIES) is None  # what a test transport calls itself
