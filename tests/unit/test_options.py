from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backyard import ConfigurationError, Job, JobContext, JobOptions, registry
from backyard._queue import build_request


class Mailer(Job):
    NAME = "unit.Mailer"

    @classmethod
    def options(cls) -> JobOptions:
        return JobOptions(queue="mail", max_retries=5, priority=2)

    async def execute(self, ctx: JobContext) -> None:
        pass


def test_enqueue_options_override_type_options_override_defaults() -> None:
    request = build_request(Mailer())
    assert (request.queue, request.max_retries, request.priority) == ("mail", 5, 2)
    request = build_request(Mailer(), JobOptions(priority=9))
    assert (request.queue, request.max_retries, request.priority) == ("mail", 5, 9)
    request = build_request(Mailer(), JobOptions(queue="urgent", max_retries=0))
    assert (request.queue, request.max_retries, request.priority) == ("urgent", 0, 2)


def test_delay_and_at_together_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="delay or at, not both"):
        JobOptions(delay=5, at=datetime.now(UTC))


def test_delay_sets_run_at() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    request = build_request(Mailer(), JobOptions(delay=timedelta(minutes=5)), now)
    assert request.run_at == now + timedelta(minutes=5)
    assert build_request(Mailer(), JobOptions(delay=30), now).run_at == now + timedelta(seconds=30)
    assert build_request(Mailer(), None, now).run_at is None


def test_naive_at_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        build_request(Mailer(), JobOptions(at=datetime(2030, 1, 1)))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_retries": -1}, "max_retries"),
        ({"delay": -3}, "delay"),
        ({"timeout": 0}, "timeout"),
        ({"queue": ""}, "queue"),
    ],
)
def test_bad_values_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        JobOptions(**options)  # type: ignore[arg-type]


def teardown_module() -> None:
    registry.unregister("unit.Mailer")
