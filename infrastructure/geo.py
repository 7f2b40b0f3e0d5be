"""Where an address is: the country from geoip2fast's own data (IPv4 and IPv6, nothing to
configure), region and city from a MaxMind GeoIP2/GeoLite2 City database when one is configured
(BEACON_GEOIP_DB). Both read local files only; nothing is fetched."""

from __future__ import annotations

import threading
from importlib.metadata import version
from pathlib import Path
from typing import Any

import maxminddb
from geoip2fast import GeoIP2Fast

from application.enrichment import Place
from domain.enrichment import canonical_address

COUNTRY_DATA = "geoip2fast-ipv6.dat.gz"  # shipped in the package: IPv4 and IPv6 countries
UNKNOWN = "--"  # geoip2fast's answer for private, reserved and unlisted addresses


class GeoDatabase:
    """Both lookups, with the versions they answer from (recorded with every enrichment).

    Opened on first use: the country data takes ~70 MB, which only the process running the
    pipeline needs (not an API process started with --no-projections)."""

    def __init__(self, city_db: Path | None = None):
        self.city_db = city_db
        self._countries: Any = None
        self._cities: Any = None
        self._versions: dict[str, str] = {}
        self._lock = threading.Lock()  # geoip2fast keeps a lookup cache it does not guard

    def _open(self) -> None:
        with self._lock:
            if self._countries is not None:
                return
            countries = GeoIP2Fast(verbose=False, geoip2fast_data_file=COUNTRY_DATA)
            source = countries.get_database_info().get("source_info", "")
            self._versions = {"country": f"geoip2fast {version('geoip2fast')} {source}".strip()}
            if self.city_db is not None:
                self._cities = maxminddb.open_database(str(self.city_db))
                meta = self._cities.metadata()
                self._versions["city"] = (f"{meta.database_type} {meta.build_epoch} "
                                          f"{Path(self.city_db).name}")
            self._countries = countries

    @property
    def versions(self) -> dict[str, str]:
        self._open()
        return self._versions

    def locate(self, address: str | None) -> Place:
        address = canonical_address(address)  # an IPv4 address mapped into IPv6 is located too
        if not address:
            return Place()
        self._open()
        region = city = country = None
        if self._cities is not None:
            try:
                found = self._cities.get(address) or {}
            except ValueError:
                found = {}
            country = (found.get("country") or {}).get("iso_code")
            subdivisions = found.get("subdivisions") or [{}]
            region = _english(subdivisions[0])
            city = _english(found.get("city") or {})
        if country is None:
            with self._lock:
                code = self._countries.lookup(address).country_code
            country = code if code and code != UNKNOWN and len(code) == 2 else None
        return Place(country, region, city)

    def close(self) -> None:
        if self._cities is not None:
            self._cities.close()


def _english(record: dict[str, Any]) -> str | None:
    names = record.get("names") or {}
    name = names.get("en")
    return name if isinstance(name, str) else None
