"""Every setting Fieldloop reads from the environment, in one table.

Defaults make `make demo` work on a fresh machine with nothing configured: a SQLite file under
`var/`, a signing key generated once and kept beside it. Production sets
`FIELDLOOP_DATABASE_URL=postgresql://…` and, ideally, `FIELDLOOP_SECRET_KEY`. Nothing else in
the code base reads `os.environ` for Fieldloop settings.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# variable name → (attribute, default, help). The README's configuration table mirrors this.
ENVIRONMENT = {
    "FIELDLOOP_DATABASE_URL": (
        "database_url",
        "sqlite:///var/fieldloop.sqlite3",
        "sqlite:///path/to/file.sqlite3 (default) or postgresql://user:pass@host:5432/db",
    ),
    "FIELDLOOP_VAR_DIR": ("var_dir", "var", "where instance data lives (SQLite file, keys, media)"),
    "FIELDLOOP_SECRET_KEY": (
        "secret_key",
        "",
        "signs login tokens; generated into var/secret_key when unset",
    ),
    "FIELDLOOP_TOKEN_HOURS": ("token_hours", "12", "how long a login token lasts (one shift)"),
    "FIELDLOOP_SQLITE_TIMEOUT": (
        "sqlite_timeout",
        "30",
        "seconds a SQLite writer waits for the lock before failing",
    ),
    "FIELDLOOP_PG_POOL_MAX": ("pg_pool_max", "10", "PostgreSQL connections per process"),
    "FIELDLOOP_LOG_LEVEL": ("log_level", "INFO", "DEBUG, INFO, WARNING or ERROR"),
    "FIELDLOOP_SYNC_FINISHED_DAYS": (
        "sync_finished_days",
        "7",
        "how long finished work stays on crew tablets",
    ),
    "FIELDLOOP_SYNC_TOMBSTONE_DAYS": (
        "sync_tombstone_days",
        "30",
        "how long removals are kept for offline tablets; an older cursor must resync",
    ),
    "FIELDLOOP_TIMEZONE": (
        "timezone",
        "America/New_York",
        "the town's time zone: reads camera times that carry no offset",
    ),
    "FIELDLOOP_MEDIA_STORAGE": (
        "media_storage",
        "local",
        "where photos are kept: local (a directory; the only backend so far)",
    ),
    "FIELDLOOP_MEDIA_DIR": ("media_dir", "", "the local photo directory; default var/media"),
    "FIELDLOOP_UPLOAD_MAX_MB": ("upload_max_mb", "25", "largest photo accepted, in megabytes"),
    "FIELDLOOP_UPLOAD_EXPIRY_HOURS": (
        "upload_expiry_hours",
        "72",
        "how long an unfinished upload may be resumed before its bytes are deleted",
    ),
    "FIELDLOOP_VAPID_PRIVATE_KEY": (
        "vapid_private_key",
        "",
        "signs Web Push messages (PEM or base64url); generated into var/vapid_private.pem",
    ),
    "FIELDLOOP_VAPID_SUBJECT": (
        "vapid_subject",
        "mailto:311@localhost",
        "a mailto: or https: contact push services can reach the town at",
    ),
    "FIELDLOOP_PUSH_SERVICES": (
        "push_services",
        "fcm.googleapis.com,push.services.mozilla.com,push.apple.com,notify.windows.com",
        "host names (and their subdomains) push subscriptions may point at",
    ),
    "FIELDLOOP_PUBLIC_URL": (
        "public_url",
        "",
        "the address the public reaches this server at (https://311.example.gov); Open311 "
        "links use it. Unset: taken from each request",
    ),
    "FIELDLOOP_OPEN311_RATE": (
        "open311_rate_per_minute",
        "60",
        "Open311 submissions one API key may make a minute",
    ),
    "FIELDLOOP_OPEN311_CONTACT": (
        "open311_contact",
        "Call 311 for help with this API.",
        "the contact line Open311 discovery shows",
    ),
    "FIELDLOOP_NOTIFY_WORKER": (
        "notify_worker",
        "inprocess",
        "inprocess: the API process delivers notifications; off: run `fieldloop worker`",
    ),
}


class SettingsError(ValueError):
    """A setting has a value Fieldloop cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    secret_key: str
    token_hours: int
    sqlite_timeout: float
    pg_pool_max: int
    log_level: str
    sync_finished_days: int = 7
    sync_tombstone_days: int = 30
    timezone: str = "America/New_York"
    media_storage: str = "local"
    media_dir: Path | None = None
    upload_max_mb: int = 25
    upload_expiry_hours: int = 72
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:311@localhost"
    push_services: tuple[str, ...] = ()
    notify_worker: str = "inprocess"
    public_url: str = ""
    open311_rate_per_minute: int = 60
    open311_contact: str = "Call 311 for help with this API."

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def media_root(self) -> Path:
        return self.media_dir or self.var_dir / "media"

    @property
    def upload_spool(self) -> Path:
        """Unfinished uploads: local to this host (docs/media.md, several hosts)."""
        return self.var_dir / "uploads"

    @property
    def upload_max_bytes(self) -> int:
        return self.upload_max_mb * 1_000_000

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _secret_key(var_dir: Path, given: str) -> str:
    """The given key, or the one kept in var/secret_key (created on first use)."""
    if given:
        if len(given) < 32:
            raise SettingsError("FIELDLOOP_SECRET_KEY must be at least 32 characters")
        return given
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read every Fieldloop setting from `environ` (default: the process environment)."""
    env = os.environ if environ is None else environ
    raw = {attr: env.get(name, default) for name, (attr, default, _) in ENVIRONMENT.items()}
    url = raw["database_url"]
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError(
            "FIELDLOOP_DATABASE_URL must start with sqlite:/// or postgresql://, "
            f"got {url.split(':', 1)[0]!r}"
        )
    var_dir = Path(raw["var_dir"])
    try:
        timeout = float(raw["sqlite_timeout"])
    except ValueError:
        raise SettingsError("FIELDLOOP_SQLITE_TIMEOUT must be a number of seconds") from None
    level = raw["log_level"].upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"FIELDLOOP_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR: {level}")
    try:
        ZoneInfo(raw["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"FIELDLOOP_TIMEZONE must be an IANA time zone such as America/New_York, "
            f"got {raw['timezone']!r}"
        ) from None
    if raw["notify_worker"] not in ("inprocess", "off"):
        raise SettingsError(
            f"FIELDLOOP_NOTIFY_WORKER must be inprocess or off, got {raw['notify_worker']!r}"
        )
    if not raw["vapid_subject"].startswith(("mailto:", "https://")):
        raise SettingsError("FIELDLOOP_VAPID_SUBJECT must start with mailto: or https://")
    if raw["public_url"] and not raw["public_url"].startswith(("https://", "http://")):
        raise SettingsError("FIELDLOOP_PUBLIC_URL must start with https:// (or http://)")
    if raw["media_storage"] != "local":
        raise SettingsError(
            f"FIELDLOOP_MEDIA_STORAGE must be 'local' (the only backend so far), "
            f"got {raw['media_storage']!r}"
        )
    return Settings(
        database_url=url,
        var_dir=var_dir,
        secret_key=_secret_key(var_dir, raw["secret_key"]),
        token_hours=_int("FIELDLOOP_TOKEN_HOURS", raw["token_hours"]),
        sqlite_timeout=timeout,
        pg_pool_max=_int("FIELDLOOP_PG_POOL_MAX", raw["pg_pool_max"]),
        log_level=level,
        sync_finished_days=_int("FIELDLOOP_SYNC_FINISHED_DAYS", raw["sync_finished_days"]),
        sync_tombstone_days=_int("FIELDLOOP_SYNC_TOMBSTONE_DAYS", raw["sync_tombstone_days"]),
        timezone=raw["timezone"],
        media_storage=raw["media_storage"],
        media_dir=Path(raw["media_dir"]) if raw["media_dir"] else None,
        upload_max_mb=_int("FIELDLOOP_UPLOAD_MAX_MB", raw["upload_max_mb"]),
        upload_expiry_hours=_int("FIELDLOOP_UPLOAD_EXPIRY_HOURS", raw["upload_expiry_hours"]),
        vapid_private_key=raw["vapid_private_key"],
        vapid_subject=raw["vapid_subject"],
        push_services=tuple(
            host.strip().lower() for host in raw["push_services"].split(",") if host.strip()
        ),
        notify_worker=raw["notify_worker"],
        public_url=raw["public_url"].rstrip("/"),
        open311_rate_per_minute=_int("FIELDLOOP_OPEN311_RATE", raw["open311_rate_per_minute"]),
        open311_contact=raw["open311_contact"],
    )
