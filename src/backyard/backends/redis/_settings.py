"""What a ``redis://`` URL and the keyword arguments of ``RedisQueue`` configure."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..._errors import ConfigurationError
from ..._queue import redact_url

DEFAULT_PREFIX = "backyard:"
DEFAULT_COMPLETED_TTL = 24 * 3600.0
DEFAULT_DEAD_TTL = 7 * 24 * 3600.0
DEFAULT_STATS_TTL = 2 * 24 * 3600.0

# Query parameters backyard reads itself; every other one goes to redis-py
# (socket_timeout, ssl_cert_reqs, ssl_ca_certs, health_check_interval, ...).
OWN_OPTIONS = ("prefix", "completed_ttl", "dead_ttl", "cancelled_ttl")

Seconds = timedelta | float | int | None


class _Unset(enum.Enum):
    FROM_URL = "from the URL, else the default"


FROM_URL = _Unset.FROM_URL


@dataclass(frozen=True, slots=True)
class RedisSettings:
    redis_url: str  # the URL for redis-py, without backyard's own options
    where: str  # host:port/db, for error messages
    prefix: str
    completed_ttl: float  # seconds; 0 keeps jobs until pruned
    dead_ttl: float
    cancelled_ttl: float
    stats_ttl: float


def parse_settings(
    url: str,
    *,
    prefix: str | None = None,
    completed_ttl: Seconds | _Unset = FROM_URL,
    dead_ttl: Seconds | _Unset = FROM_URL,
    cancelled_ttl: Seconds | _Unset = FROM_URL,
    stats_ttl: Seconds = DEFAULT_STATS_TTL,
) -> RedisSettings:
    """Split ``url`` into redis-py's URL and backyard's options; keyword arguments win.

    For the retention arguments ``None`` means "keep until pruned".
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"malformed Redis URL {shown!r}: {exc}") from None
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigurationError(
            f"not a Redis URL: {shown!r} (expected redis://host:6379/0 or rediss:// for TLS)"
        )
    path = parts.path.strip("/")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    db_text = query.get("db", path or "0")
    if not db_text.isdigit():
        raise ConfigurationError(
            f"the database in the Redis URL {shown!r} must be a number, like "
            f"redis://localhost:6379/0 (got {db_text!r})"
        )
    own = {name: query.pop(name) for name in OWN_OPTIONS if name in query}
    redis_url = urlunsplit(parts._replace(query=urlencode(query)))
    host = parts.hostname or "localhost"
    where = f"{host}:{port or 6379}/{int(db_text)}"

    chosen_prefix = prefix if prefix is not None else own.get("prefix", DEFAULT_PREFIX)
    if not chosen_prefix:
        raise ConfigurationError(
            "the Redis key prefix must not be empty (the default is 'backyard:')"
        )

    def ttl(name: str, given: Seconds | str | _Unset, default: float) -> float:
        if given is FROM_URL:
            given = own.get(name, default)
        if given is None:
            return 0.0
        if isinstance(given, timedelta):
            value = given.total_seconds()
        else:
            try:
                value = float(given)
            except ValueError:
                raise ConfigurationError(
                    f"{name} must be a number of seconds (0 keeps jobs until pruned), got {given!r}"
                ) from None
        if value < 0:
            raise ConfigurationError(f"{name} must not be negative, got {given!r}")
        return value

    completed = ttl("completed_ttl", completed_ttl, DEFAULT_COMPLETED_TTL)
    return RedisSettings(
        redis_url=redis_url,
        where=where,
        prefix=chosen_prefix,
        completed_ttl=completed,
        dead_ttl=ttl("dead_ttl", dead_ttl, DEFAULT_DEAD_TTL),
        cancelled_ttl=ttl("cancelled_ttl", cancelled_ttl, completed),
        stats_ttl=ttl("stats_ttl", stats_ttl, DEFAULT_STATS_TTL) or DEFAULT_STATS_TTL,
    )
