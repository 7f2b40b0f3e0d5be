"""Small MaxMind City databases the tests build (with mmdb-writer), never fetched."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def city_record(country: str, region: str, city: str) -> dict:
    return {"country": {"iso_code": country, "names": {"en": country}},
            "subdivisions": [{"iso_code": region[:3].upper(), "names": {"en": region}}],
            "city": {"names": {"en": city}}}


def build_city_db(path: Path, places: dict[str, tuple[str, str, str]]) -> Path:
    """A GeoIP2-City-shaped database: each network (CIDR) → (country, region, city)."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City",
                        languages=["en"], description="Beacon's test cities")
    for network, (country, region, city) in places.items():
        writer.insert_network(IPSet([network]), city_record(country, region, city))
    writer.to_db_file(str(path))
    return path
