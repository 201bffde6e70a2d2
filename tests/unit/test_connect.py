from __future__ import annotations

import pytest

from backyard import ConfigurationError, connect, default_url
from backyard.backends.sqlite import parse_sqlite_url


@pytest.mark.parametrize("url", ["mysql://localhost/db", "backyard.db", "ftp://x", "://"])
def test_unknown_schemes_list_the_supported_ones(url: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        connect(url)
    message = str(err.value)
    assert "sqlite://" in message and "postgresql://" in message and "redis://" in message


def test_password_is_redacted_in_errors() -> None:
    with pytest.raises(ConfigurationError) as err:
        connect("mysql://user:s3cret@host/db")
    assert "s3cret" not in str(err.value)


def test_default_url_honours_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKYARD_URL", raising=False)
    assert default_url() == "sqlite:///backyard.db"
    monkeypatch.setenv("BACKYARD_URL", "memory://")
    assert default_url() == "memory://"


def test_sqlite_url_forms() -> None:
    assert parse_sqlite_url("sqlite:///jobs.db") == ("jobs.db", {})
    assert parse_sqlite_url("sqlite:////var/lib/app/jobs.db") == ("/var/lib/app/jobs.db", {})
    assert parse_sqlite_url("sqlite:///x.db?synchronous=normal") == (
        "x.db",
        {"synchronous": "normal"},
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://host/x.db", "three slashes"),
        ("sqlite:///", "names no file"),
        ("sqlite:///x.db?fast=yes", "unknown sqlite URL option"),
    ],
)
def test_malformed_sqlite_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        connect(url)


def test_bad_sqlite_option_values() -> None:
    with pytest.raises(ConfigurationError, match="synchronous"):
        connect("sqlite:///x.db?synchronous=sometimes")
    with pytest.raises(ConfigurationError, match="busy_timeout"):
        connect("sqlite:///x.db?busy_timeout=soon")
