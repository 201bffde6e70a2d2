"""URLs, options and the errors a person sees when they are wrong."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from backyard import ConfigurationError, StorageError, connect
from backyard.backends.redis import RedisQueue
from backyard.backends.redis._settings import parse_settings

from .conftest import MakeStore


def test_url_options_and_keyword_arguments() -> None:
    settings = parse_settings(
        "redis://:secret@example.com:6380/3?prefix=app1:&completed_ttl=60&socket_timeout=2"
    )
    assert settings.prefix == "app1:"
    assert settings.completed_ttl == 60
    assert settings.cancelled_ttl == 60  # cancelled follows completed
    assert settings.dead_ttl == 7 * 24 * 3600
    assert settings.where == "example.com:6380/3"
    # backyard's own options are removed; redis-py's stay
    assert "prefix" not in settings.redis_url and "socket_timeout=2" in settings.redis_url
    assert ":secret@" in settings.redis_url

    chosen = parse_settings(
        "redis://localhost?prefix=from-url:", prefix="from-code:", dead_ttl=timedelta(hours=1)
    )
    assert chosen.prefix == "from-code:"
    assert chosen.dead_ttl == 3600
    assert parse_settings("redis://localhost", completed_ttl=None).completed_ttl == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://localhost:6379/zero", "must be a number"),
        ("redis://localhost:notaport/0", "malformed Redis URL"),
        ("redis://localhost/0?completed_ttl=soon", "completed_ttl must be a number"),
        ("redis://localhost/0?prefix=", "must not be empty"),
    ],
)
def test_bad_urls_say_what_to_fix(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        connect(url)


def test_password_is_not_shown() -> None:
    assert "hunter2" not in repr(RedisQueue("redis://:hunter2@localhost:6379/0"))


async def test_redis_down_at_open_is_a_clear_storage_error() -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused.
    store = connect("redis://127.0.0.1:1/0")
    with pytest.raises(StorageError, match=r"cannot reach Redis at 127\.0\.0\.1:1/0"):
        await store.open()


async def test_wrong_password_names_the_password(make_store: MakeStore) -> None:
    admin = await make_store()
    user = f"backyard-test-{uuid.uuid4().hex[:8]}"
    await admin.client.acl_setuser(
        user, enabled=True, passwords=["+right"], keys=["*"], commands=["+@all"]
    )
    try:
        store = connect(f"redis://{user}:wrong@127.0.0.1:6379/0")
        with pytest.raises(ConfigurationError, match="password") as caught:
            await store.open()
        assert "wrong" not in str(caught.value)
        good = connect(f"redis://{user}:right@127.0.0.1:6379/0", prefix=admin.prefix)
        await good.open()
        await good.close()
    finally:
        await admin.client.acl_deluser(user)


async def test_database_number_out_of_range(make_store: MakeStore) -> None:
    await make_store()  # skips when Redis is not running
    store = connect("redis://127.0.0.1:6379/12345")
    with pytest.raises(ConfigurationError, match="database number"):
        await store.open()
