"""Job ids and the fast paths that build enqueue requests."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ConfigDict, Field, field_serializer

from backyard import EnqueueRequest, Job, JobContext
from backyard._queue import _request_factory, build_request
from backyard._records import new_job_id, new_job_ids, request_maker


def test_job_ids_have_the_uuid7_layout_and_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_job_id(), *new_job_ids(1000)]
    after = time.time_ns() // 1_000_000
    for job_id in ids:
        value = uuid.UUID(job_id)
        assert str(value) == job_id
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert before <= value.int >> 80 <= after


def test_job_ids_are_unique_and_random_in_every_free_bit() -> None:
    ids = new_job_ids(20_000) + [new_job_id() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    free = (0xFFF << 64) | ((1 << 62) - 1)  # rand_a and rand_b
    seen_zero = seen_one = 0
    for job_id in ids:
        bits = uuid.UUID(job_id).int & free
        seen_one |= bits
        seen_zero |= ~bits & free
    assert seen_one == seen_zero == free


def test_no_ids_for_an_empty_batch() -> None:
    assert new_job_ids(0) == []


@pytest.mark.parametrize(
    "shared",
    [
        {
            "name": "a.Job",
            "queue": "default",
            "priority": 0,
            "max_retries": 3,
            "run_at": None,
            "timeout": None,
        },
        {
            "name": "b.Job",
            "queue": "mail",
            "priority": -7,
            "max_retries": 0,
            "run_at": datetime(2030, 1, 1, tzinfo=UTC),
            "timeout": 2.5,
        },
    ],
)
def test_request_maker_makes_what_the_constructor_makes(shared: dict[str, Any]) -> None:
    made = request_maker(**shared)('{"n":1}', "some-id")
    built = EnqueueRequest(payload='{"n":1}', id="some-id", **shared)
    assert made == built
    assert type(made) is EnqueueRequest
    assert hash(made) == hash(built)
    assert repr(made) == repr(built)
    with pytest.raises(AttributeError):
        made.queue = "other"  # type: ignore[misc]


class Plain(Job):
    NAME = "unit.records.Plain"
    when: datetime
    tags: list[str] = Field(default_factory=list)
    ratio: float = 0.5

    async def execute(self, ctx: JobContext) -> None:
        pass


class Shaped(Job):
    NAME = "unit.records.Shaped"
    model_config = ConfigDict(ser_json_timedelta="float")
    wait: timedelta
    secret: str = Field(exclude=True, default="x")

    @field_serializer("wait")
    def _wait(self, value: timedelta) -> float:
        return value.total_seconds() * 2

    async def execute(self, ctx: JobContext) -> None:
        pass


class OwnEncoding(Job):
    NAME = "unit.records.OwnEncoding"
    n: int = 0

    def encode(self) -> str:
        return f'{{"n": {self.n}, "own": true}}'

    async def execute(self, ctx: JobContext) -> None:
        pass


@pytest.mark.parametrize(
    "job",
    [
        Plain(when=datetime(2030, 1, 1, tzinfo=UTC), tags=["a", "é"]),
        Shaped(wait=timedelta(seconds=3), secret="hidden"),
        OwnEncoding(n=4),
    ],
)
def test_bulk_requests_carry_what_encode_returns(job: Job) -> None:
    # enqueue_many serializes through pydantic directly unless a class
    # overrides encode; the payload must be the same either way.
    assert build_request(job).payload == job.encode()
    batch = _request_factory(type(job), None, None)
    assert batch(job, "id").payload == job.encode()
