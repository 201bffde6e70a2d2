"""Fixtures for the dashboard tests: a store with jobs in every state, and an HTTP client.

Page and action tests take ``live_store`` (tests/conftest.py), so they run
against every backend in tests/backends.py.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from starlette.types import ASGIApp

from backyard import EnqueueRequest, JobError, JobRecord, JobStatus, Queue
from backyard.dashboard import create_app

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


async def push(
    store: Queue, name: str = "tests.Record", payload: str = "{}", **options: object
) -> str:
    return await store.push(EnqueueRequest(name=name, payload=payload, **options))  # type: ignore[arg-type]


async def run_to(
    store: Queue,
    status: JobStatus,
    *,
    name: str = "tests.Report",
    payload: str = '{"report": "daily"}',
    queue: str = "default",
    message: str = "ValueError: row 17 has 9 columns",
) -> JobRecord:
    """Push one job and take it, through claim, to completed or dead (with a real traceback)."""
    # Top priority: the claim below takes this job, not an older one in the queue.
    job_id = await push(store, name, payload, queue=queue, priority=1000)
    [claimed] = await store.claim([queue], "test-worker", 1, 30.0)
    assert claimed.id == job_id
    if status is JobStatus.COMPLETED:
        assert await store.ack([claimed]) == 1
    else:
        assert status is JobStatus.DEAD
        try:
            raise ValueError(message)
        except ValueError:
            text = traceback.format_exc()
        error = JobError(
            attempt=claimed.attempt, at=store.now_datetime(), message=message, traceback=text
        )
        assert await store.fail(claimed, error)
    record = await store.get(job_id)
    assert record is not None and record.status is status
    return record


@dataclass
class Jobs:
    """One job in each state the pages show."""

    dead: JobRecord
    completed: JobRecord
    available: str
    scheduled: str


async def fill(store: Queue) -> Jobs:
    dead = await run_to(store, JobStatus.DEAD, queue="reports", message="reports API answered 503")
    completed = await run_to(store, JobStatus.COMPLETED, queue="mail", name="tests.SendReceipt")
    available = await push(store, "tests.SendReceipt", '{"to": "a@example.com"}', queue="mail")
    scheduled = await push(
        store,
        "tests.Reminder",
        '{"days": 3}',
        queue="mail",
        run_at=store.now_datetime() + timedelta(hours=1),
    )
    return Jobs(dead, completed, available, scheduled)


class Browser:
    """An HTTP client that behaves like a browser on the dashboard: cookies, CSRF field."""

    def __init__(self, client: httpx.AsyncClient, prefix: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self._token: str | None = None

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        return await self.client.get(self.prefix + path, **kwargs)  # type: ignore[arg-type]

    async def token(self) -> str:
        """The CSRF token the pages carry (its cookie is then in the jar), fetched once."""
        if self._token is None:
            response = await self.get("/workers")  # any page will do
            found = CSRF_META.search(response.text)
            assert found, "no CSRF token on the page"
            self._token = found.group(1)
        return self._token

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, token: bool = True
    ) -> httpx.Response:
        form = dict(data or {})
        if token:
            form.setdefault("csrf_token", await self.token())
        return await self.client.post(self.prefix + path, data=form)


def client_for(app: ASGIApp, **kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://dashboard.test",
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def jobs(live_store: Queue) -> Jobs:
    return await fill(live_store)


@pytest.fixture
async def browser(live_store: Queue) -> AsyncIterator[Browser]:
    async with client_for(create_app(live_store, page_size=5)) as client:
        yield Browser(client)
