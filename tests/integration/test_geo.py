"""Geo lookups: the country from the package's own data, region and city from a City database
(built here by the test: never fetched)."""

from __future__ import annotations

from pathlib import Path

from infrastructure.geo import GeoDatabase
from tests.geo_databases import build_city_db


def test_the_country_needs_no_configuration() -> None:
    geo = GeoDatabase()
    assert geo.locate("81.2.69.160").country == "GB"
    assert geo.locate("2a03:2880:f003::1").country == "US"
    assert geo.locate("10.1.2.3").country is None  # private: nowhere
    assert geo.locate("81.2.69.160").city is None
    assert "geoip2fast" in geo.versions["country"] and "city" not in geo.versions


def test_region_and_city_come_from_a_configured_city_database(tmp_path: Path) -> None:
    path = build_city_db(tmp_path / "cities.mmdb", {"81.2.69.0/24": ("GB", "England", "London"),
                                                    "2001:db8::/32": ("DE", "Berlin", "Berlin")})
    geo = GeoDatabase(path)
    try:
        place = geo.locate("81.2.69.160")
        assert (place.country, place.region, place.city) == ("GB", "England", "London")
        assert geo.locate("2001:db8::1").city == "Berlin"
        # Not in the city database: the country still comes from the package's data.
        assert geo.locate("8.8.8.8").country == "US" and geo.locate("8.8.8.8").city is None
        assert "GeoIP2-City" in geo.versions["city"]
    finally:
        geo.close()
