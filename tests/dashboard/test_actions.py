"""The dashboard's actions change the store, then send the browser back with a notice."""

from __future__ import annotations

from backyard import JobStatus, Queue

from .conftest import Browser, Jobs, run_to


async def status_of(store: Queue, job_id: str) -> JobStatus | None:
    record = await store.get(job_id)
    return None if record is None else record.status


async def test_retry_puts_a_dead_job_back_in_its_queue(
    browser: Browser, live_store: Queue, jobs: Jobs
) -> None:
    response = await browser.post(f"/jobs/{jobs.dead.id}/retry", {"next": "/dead"})
    assert response.status_code == 303
    assert response.headers["location"] == "/dead"
    record = await live_store.get(jobs.dead.id)
    assert record is not None
    assert record.status is JobStatus.AVAILABLE and record.attempt == 0

    page = (await browser.get("/dead")).text
    assert f"Job {jobs.dead.id} is back in its queue." in page  # the one-time notice
    assert "No dead jobs" in page
    assert "is back in its queue" not in (await browser.get("/dead")).text  # shown once


async def test_retry_of_a_job_that_is_not_dead_says_why(
    browser: Browser, live_store: Queue, jobs: Jobs
) -> None:
    await browser.post(f"/jobs/{jobs.completed.id}/retry", {"next": f"/jobs/{jobs.completed.id}"})
    page = (await browser.get(f"/jobs/{jobs.completed.id}")).text
    assert f"Job {jobs.completed.id} was not retried: it is completed." in page
    assert await status_of(live_store, jobs.completed.id) is JobStatus.COMPLETED


async def test_delete_removes_a_job(browser: Browser, live_store: Queue, jobs: Jobs) -> None:
    response = await browser.post(f"/jobs/{jobs.dead.id}/delete", {"next": "/dead"})
    assert response.status_code == 303
    assert await live_store.get(jobs.dead.id) is None
    assert f"Job {jobs.dead.id} is deleted." in (await browser.get("/dead")).text


async def test_cancel_stops_a_waiting_job(browser: Browser, live_store: Queue, jobs: Jobs) -> None:
    response = await browser.post(f"/jobs/{jobs.scheduled}/cancel", {"next": "/scheduled"})
    assert response.status_code == 303
    assert await status_of(live_store, jobs.scheduled) is JobStatus.CANCELLED
    assert "Nothing scheduled" in (await browser.get("/scheduled")).text
    # A cancelled job can be retried from its page.
    assert "Retry</button>" in (await browser.get(f"/jobs/{jobs.scheduled}")).text


async def test_retry_all_and_delete_all_dead_respect_the_queue_filter(
    browser: Browser, live_store: Queue
) -> None:
    mail = [(await run_to(live_store, JobStatus.DEAD, queue="mail")).id for _ in range(3)]
    reports = [(await run_to(live_store, JobStatus.DEAD, queue="reports")).id for _ in range(2)]

    await browser.post("/dead/retry", {"queue": "mail", "next": "/dead?queue=mail"})
    assert [await status_of(live_store, i) for i in mail] == [JobStatus.AVAILABLE] * 3
    assert [await status_of(live_store, i) for i in reports] == [JobStatus.DEAD] * 2
    assert "Put 3 dead jobs of queue mail back in the queue." in (await browser.get("/dead")).text

    await browser.post("/dead/delete", {"next": "/dead"})  # no queue: every dead job
    assert [await live_store.get(i) for i in reports] == [None, None]
    assert [await status_of(live_store, i) for i in mail] == [JobStatus.AVAILABLE] * 3
    assert "Deleted 2 dead jobs." in (await browser.get("/dead")).text


async def test_retry_all_dead_across_pages(browser: Browser, live_store: Queue) -> None:
    ids = [(await run_to(live_store, JobStatus.DEAD)).id for _ in range(12)]  # page size 5
    await browser.post("/dead/retry", {"next": "/dead"})
    assert {await status_of(live_store, i) for i in ids} == {JobStatus.AVAILABLE}


async def test_next_must_stay_inside_the_dashboard(browser: Browser, jobs: Jobs) -> None:
    for outside in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "dead"):
        response = await browser.post(f"/jobs/{jobs.dead.id}/retry", {"next": outside})
        assert response.status_code == 303
        assert response.headers["location"] == "/", outside


async def test_actions_answer_post_only(browser: Browser, jobs: Jobs) -> None:
    response = await browser.get(f"/jobs/{jobs.dead.id}/retry")
    assert response.status_code == 405
