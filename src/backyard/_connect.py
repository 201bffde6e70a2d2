"""``connect(url)``: choose a storage backend by URL scheme."""

from __future__ import annotations

import importlib
import os
from typing import Any
from urllib.parse import urlsplit

from ._errors import ConfigurationError
from ._queue import Queue, redact_url

DEFAULT_URL = "sqlite:///backyard.db"
URL_ENV = "BACKYARD_URL"

# scheme -> (module, class, pip extra). Backends import lazily so their
# drivers stay optional.
BACKENDS: dict[str, tuple[str, str, str | None]] = {
    "memory": ("backyard.backends.memory", "MemoryQueue", None),
    "sqlite": ("backyard.backends.sqlite", "SQLiteQueue", None),
    "postgresql": ("backyard.backends.postgres", "PostgresQueue", "postgres"),
    "postgres": ("backyard.backends.postgres", "PostgresQueue", "postgres"),
    "redis": ("backyard.backends.redis", "RedisQueue", "redis"),
    "rediss": ("backyard.backends.redis", "RedisQueue", "redis"),
}


def default_url() -> str:
    """``$BACKYARD_URL`` if set, else ``sqlite:///backyard.db`` (a file in the current folder)."""
    return os.environ.get(URL_ENV) or DEFAULT_URL


def connect(url: str | None = None, **options: Any) -> Queue:
    """The storage backend for ``url``, not yet opened.

    Use it as an async context manager (``async with connect(url) as queue``)
    or call ``await queue.open()`` yourself. With no URL, ``$BACKYARD_URL``
    or the embedded default ``sqlite:///backyard.db``.

    Raises ``ConfigurationError`` for an unknown scheme or a malformed URL,
    and when the backend's driver is not installed.
    """
    url = url or default_url()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise ConfigurationError(f"malformed storage URL {redact_url(url)!r}: {exc}") from None
    if "://" not in url or scheme not in BACKENDS:
        supported = ", ".join(f"{s}://" for s in BACKENDS)
        raise ConfigurationError(
            f"unsupported storage URL {redact_url(url)!r}: the scheme must be one of "
            f"{supported} (for example sqlite:///backyard.db)"
        )
    module_name, class_name, extra = BACKENDS[scheme]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if extra is None:
            raise
        raise ConfigurationError(
            f"the {scheme}:// backend needs an optional dependency ({exc.name}): "
            f"pip install 'backyard[{extra}]'"
        ) from exc
    cls: type[Queue] = getattr(module, class_name)
    return cls(url, **options)
