"""Settings of the ``postgresql://`` backend, read from its URL and ``connect()`` keywords.

Options the backend understands are taken out of the URL's query string;
every other query parameter goes to asyncpg untouched (``sslmode``,
``application_name`` and other server settings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..._errors import ConfigurationError
from ..._queue import redact_url

DEFAULT_SCHEMA = "backyard"

# Lower case, so the name means the same quoted or not; short enough that
# "<schema>.jobs" still fits PostgreSQL's 63-byte limit on channel names.
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,49}")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class PostgresSettings:
    """Everything the backend needs to connect, resolved and validated."""

    dsn: str
    """The URL for asyncpg: backyard's own options removed."""
    schema: str = DEFAULT_SCHEMA
    pool_min: int = 1
    pool_max: int = 10
    connect_timeout: float = 10.0
    connect_retries: int = 0
    """Extra attempts (with backoff) when the database is unreachable at ``open()``."""
    migrate: bool = True
    """Apply pending migrations on ``open()``; off for teams that apply them themselves."""
    endpoints: str = "127.0.0.1:5432"
    """``host:port`` for error messages."""

    @property
    def channel(self) -> str:
        return channel_name(self.schema)

    @property
    def quoted_schema(self) -> str:
        return quote_identifier(self.schema)


def channel_name(schema: str) -> str:
    """The NOTIFY channel of a schema: pushes announce their queue name on it."""
    return f"{schema}.jobs"


def validate_schema(schema: str) -> str:
    if not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema):
        raise ConfigurationError(
            f"invalid PostgreSQL schema name {schema!r}: use lower-case letters, digits and "
            "underscores, starting with a letter or underscore, at most 50 characters "
            "(for example schema=backyard)"
        )
    return schema


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parse_settings(url: str, options: dict[str, Any]) -> PostgresSettings:
    """Read ``url`` and the keyword ``options`` of ``connect()``; keywords win over the URL.

    Raises ``ConfigurationError`` naming what is wrong and how a good URL looks.
    """
    shown = redact_url(url)
    example = "postgresql://user:password@localhost:5432/dbname?schema=backyard"
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise ConfigurationError(
            f"malformed PostgreSQL URL {shown!r}: {exc} (expected {example})"
        ) from None
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise ConfigurationError(f"not a PostgreSQL URL: {shown!r} (expected {example})")
    if parts.fragment:
        raise ConfigurationError(
            f"malformed PostgreSQL URL {shown!r}: unexpected '#' (expected {example})"
        )
    endpoints = _endpoints(parts.netloc, shown, example)

    ours: dict[str, str] = {}
    passed: list[tuple[str, str]] = []
    for key, value in query:
        if key in _OPTIONS:
            ours[key] = value
        else:
            passed.append((key, value))
    merged: dict[str, Any] = {**ours}
    for key, value in options.items():
        if key not in _OPTIONS:
            known = ", ".join(sorted(_OPTIONS))
            raise ConfigurationError(
                f"unknown option {key!r} for the PostgreSQL backend (known: {known}, clock)"
            )
        if value is not None:
            merged[key] = value

    schema = validate_schema(str(merged.get("schema", DEFAULT_SCHEMA)))
    pool_min = _integer(merged, "pool_min", 1, minimum=0)
    pool_max = _integer(merged, "pool_max", max(10, pool_min), minimum=1)
    if pool_min > pool_max:
        raise ConfigurationError(f"pool_min ({pool_min}) is larger than pool_max ({pool_max})")
    dsn = urlunsplit(parts._replace(query=urlencode(passed)))
    return PostgresSettings(
        dsn=dsn,
        schema=schema,
        pool_min=pool_min,
        pool_max=pool_max,
        connect_timeout=_number(merged, "connect_timeout", 10.0),
        connect_retries=_integer(merged, "connect_retries", 0, minimum=0),
        migrate=_boolean(merged, "migrate", True),
        endpoints=endpoints,
    )


_OPTIONS = frozenset(
    {"schema", "pool_min", "pool_max", "connect_timeout", "connect_retries", "migrate"}
)


def _endpoints(netloc: str, shown: str, example: str) -> str:
    """``host:port[,host:port]`` for messages; checks that every port is a number."""
    hostspec = netloc.rpartition("@")[2]
    if not hostspec:
        return "localhost:5432 (from the PG* environment or defaults)"
    described = []
    for entry in hostspec.split(","):
        host, port = entry, "5432"
        if entry.startswith("["):  # [ipv6]:port
            host, _, rest = entry.partition("]")
            host += "]"
            if rest.startswith(":"):
                port = rest[1:]
        elif ":" in entry:
            host, _, port = entry.rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigurationError(
                f"malformed PostgreSQL URL {shown!r}: port {port!r} is not a number from 1 "
                f"to 65535 (expected {example})"
            )
        described.append(f"{unquote(host) or 'localhost'}:{port}")
    return ",".join(described)


def _integer(values: dict[str, Any], key: str, default: int, *, minimum: int) -> int:
    raw = values.get(key, default)
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{key} must be a whole number, got {raw!r}") from None
    if number < minimum:
        raise ConfigurationError(f"{key} must be at least {minimum}, got {number}")
    return number


def _number(values: dict[str, Any], key: str, default: float) -> float:
    raw = values.get(key, default)
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{key} must be a number of seconds, got {raw!r}") from None
    if not number > 0:
        raise ConfigurationError(f"{key} must be positive, got {raw!r}")
    return number


def _boolean(values: dict[str, Any], key: str, default: bool) -> bool:
    raw = values.get(key, default)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{key} must be true or false, got {raw!r}")
