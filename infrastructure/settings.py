"""Beacon's configuration: environment variables prefixed BEACON_, checked once at start-up."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlparse

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {"", "changeme", "change-me", "admin", "secret", "password", "token", "test",
                "placeholder", "xxx"}


class Settings(BaseSettings):
    """Every knob Beacon has. Empty DATABASE_URL and REDIS_URL mean the embedded default."""

    model_config = SettingsConfigDict(env_prefix="BEACON_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = ""
    db_schema: str = "public"
    data_dir: Path = Path(".beacon")
    redis_url: str = ""
    # Where people reach Beacon (https://beacon.example.com): links in alert webhooks to the rule
    # and what made it fire, status-page feeds and monitors' ping URLs (else the request's own).
    public_url: str = ""
    admin_token: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    read_wait_seconds: float = 5.0
    session_timeout_minutes: int = 30
    allow_private_webhooks: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 8
    # Deliveries (and their attempts) are kept this long after their event, then forgotten; more
    # than the week in which a delivery never tried is still sent (application/webhooks.py).
    webhook_history_days: Annotated[int, Field(ge=8)] = 30
    webhook_backoff_seconds: float = 30.0  # doubles per attempt, at most an hour
    export_ttl_hours: float = 24.0
    plan_check_seconds: float = 1.0  # how often an API process looks for deploys made elsewhere
    signing_secret: str = ""  # signs export links; derived from the admin token when empty
    db_pool_size: Annotated[int, Field(ge=1)] = 2  # PostgreSQL connections of each busy pool: see pool_budget
    log_level: str = "INFO"
    stream_buffer_events: int = 10_000  # a live-stream subscriber this far behind is cut off
    stream_keepalive_seconds: float = 15.0  # an SSE comment this often keeps proxies from closing
    stream_key_check_seconds: float = 5.0  # how soon an open stream notices its key was revoked
    stream_recheck_seconds: float = 1.0  # the stream reads the log this often without a wake-up
    # Live streams (SSE and GraphQL subscriptions) one workspace may hold open at once.
    stream_max_per_workspace: Annotated[int, Field(ge=1)] = 100
    # Alert rules one workspace may have (each is evaluated on every batch that could touch it).
    alert_rules_max_per_workspace: Annotated[int, Field(ge=1)] = 500
    # Comma-separated CIDRs of the proxies whose X-Forwarded-For is believed.
    trusted_proxies: str = ""
    # A MaxMind GeoIP2/GeoLite2 City database: region and city besides the country.
    geoip_db: Path | None = None
    # Run the enrichment pipeline where projections run (off: events get no hash, geo or device).
    enrichment: bool = True
    # Alert rules judge a moment once this long has passed: a request received then may still be
    # on its way into the log (the delay from a crossing to its webhook grows by as much).
    alert_settle_seconds: Annotated[float, Field(ge=0, le=60)] = 1.0

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and urlparse(value).scheme not in ("postgresql", "postgres"):
            raise ValueError("BEACON_DATABASE_URL must be empty (SQLite) or postgresql://…")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        url = urlparse(value)
        if value and (url.scheme not in ("http", "https") or not url.hostname
                      or url.query or url.fragment):
            raise ValueError("BEACON_PUBLIC_URL must be empty or http(s)://host[:port][/path]")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"BEACON_TRUSTED_PROXIES: not a CIDR network: {entry!r}") from None
        return value

    @field_validator("geoip_db")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and str(value) and not value.is_file():
            raise ValueError(f"BEACON_GEOIP_DB: no such file: {value}")
        return value if value is not None and str(value) else None

    @model_validator(mode="after")
    def _production_needs_a_real_admin_token(self) -> Settings:
        weak = self.admin_token.strip().lower() in PLACEHOLDERS or len(self.admin_token) < 24
        if self.env == "production" and weak:
            raise ValueError("BEACON_ADMIN_TOKEN must be set to a random value of at least "
                             "24 characters when BEACON_ENV=production")
        return self

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def namespace(self) -> str:
        """What tells this deployment's keys on a shared Redis (job queues, claims, rate-limit
        windows, stream channels) from another's: its schema, or its data directory."""
        return self.db_schema if self.uses_postgres else str(self.data_dir.resolve())

    def sqlite_path(self, app_name: str) -> Path:
        return self.data_dir / f"{app_name.lower()}.sqlite"


# Applications whose recorder does more than store events (Telemetry keeps its dedupe ledger).
RECORDERS = {
    ("Telemetry", False): "infrastructure.telemetry_recorder:SQLiteTelemetryRecorder",
    ("Telemetry", True): "infrastructure.telemetry_recorder:PostgresTelemetryRecorder",
}


# The quieter applications (workspaces, status pages, monitoring, exports, configuration) share
# one pool of this many connections per process: their transactions are short (a key lookup, a
# beat, an incident's change, a deploy) and, unlike ingestion, never many at once.
SHARED_POOL_SIZE = 2
URL_POOL_FACTORY = "infrastructure.database:UrlPostgresFactory"
SHARED_POOL_FACTORY = "infrastructure.database:SharedPostgresFactory"
# The enrichment pipeline moves its place after every page, on the live streams' path: on a
# connection of its own (opened on first use, so only a process that runs the pipeline holds it),
# never queued behind the read models' long COPYs on their pool (docs/performance.md).
PIPELINE_PLACE_POOL_SIZE = 1


def pool_budget(settings: Settings) -> int:
    """The most PostgreSQL connections one process holds, besides one LISTEN connection per log
    it follows when it runs projections and PIPELINE_PLACE_POOL_SIZE when it runs the enrichment
    pipeline (README, "The production shape"): the Telemetry application's pool (N kept open, as
    many more under bursts), the read models' N and the shared pool of the others."""
    return 3 * settings.db_pool_size + SHARED_POOL_SIZE


# The whole database URL in the library's environment, beside the parts it takes apart: the
# event store's pool connects with the rest of it too (infrastructure/database.py).
URL_KEY = "BEACON_DATABASE_URL"


def eventsourcing_env(settings: Settings, app_name: str) -> dict[str, str]:
    """The one place Beacon's settings become the eventsourcing library's environment."""
    common = {"AGGREGATE_CACHE_MAXSIZE": "10000", "AGGREGATE_CACHE_FASTFORWARD": "y",
              "TRANSCODER_TOPIC": "infrastructure.transcoder:FastJSONTranscoder"}
    recorder = RECORDERS.get((app_name, settings.uses_postgres))
    if recorder:
        common["APPLICATION_RECORDER_TOPIC"] = recorder
    if app_name == "Telemetry":
        # Batches carry up to 1 MB of JSON: compressed, they dump, travel and replay faster.
        common["COMPRESSOR_TOPIC"] = "infrastructure.compression:BatchCompressor"
    if not settings.uses_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return {**common, "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(settings.sqlite_path(app_name)),
                "SQLITE_LOCK_TIMEOUT": "30"}
    url = urlparse(settings.database_url)
    # POSTGRES_ENABLE_DB_FUNCTIONS stays unset: it drops the table lock that keeps the log gap-free.
    return {
        **common,
        "PERSISTENCE_MODULE": URL_POOL_FACTORY,
        "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_SCHEMA": settings.db_schema,
        URL_KEY: settings.database_url,  # the rest of it: infrastructure/database.py
        **_pool(settings, app_name),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "5",
    }


def _pool(settings: Settings, app_name: str) -> dict[str, str]:
    if app_name == "Telemetry":
        # Ingestion admits requests side by side, one connection each, kept open so it never
        # waits for a connect. As many again under bursts: the telemetry projections, usage
        # reads, sessions and exception reports draw on the same pool.
        size = str(settings.db_pool_size)
        return {"POSTGRES_POOL_SIZE": size, "POSTGRES_MAX_OVERFLOW": size}
    return {"PERSISTENCE_MODULE": SHARED_POOL_FACTORY, "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": str(SHARED_POOL_SIZE - 1)}
