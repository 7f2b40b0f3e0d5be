"""The dashboard's vendored libraries are the files VENDORED.md records, byte for byte."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "interfaces" / "web" / "static" / "vendor"
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| (?P<package>\S+) \| (?P<version>\S+) \| [^|]+ \|[^|]+\| "
                 r"(?P<sha>[0-9a-f]{64}) \|$")


def recorded() -> list[re.Match[str]]:
    return [m for line in (VENDOR / "VENDORED.md").read_text().splitlines() if (m := ROW.match(line))]


def test_every_vendored_file_matches_its_recorded_hash() -> None:
    rows = recorded()
    assert {r["file"] for r in rows} == {p.name for p in VENDOR.iterdir()
                                         if p.suffix in (".js", ".mjs", ".css")}
    for row in rows:
        assert hashlib.sha256((VENDOR / row["file"]).read_bytes()).hexdigest() == row["sha"], row["file"]


def test_every_vendored_package_ships_its_licence() -> None:
    for package in {r["package"] for r in recorded()}:
        assert (VENDOR / f"LICENSE.{package}").stat().st_size > 500


def test_the_dashboard_loads_nothing_from_another_origin() -> None:
    web = VENDOR.parents[1]
    for path in [web / "index.html", *web.glob("static/**/*.js")]:
        if VENDOR in path.parents:
            continue
        text = path.read_text()
        assert not re.search(r"""(src|href|import|from)\s*=?\s*["'](https?:)?//""", text), path
