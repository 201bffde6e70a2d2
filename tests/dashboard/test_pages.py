"""Every page of the dashboard, rendered against a real backend."""

from __future__ import annotations

import re
from datetime import timedelta

from backyard import JobStatus, Queue, WorkerInfo

from .conftest import Browser, Jobs, push


def row_count(html: str) -> int:
    return len(re.findall(r"<tr>\s*<td><a class=\"mono\"", html))


async def test_overview_shows_each_queue_with_counts_and_recent_outcomes(
    browser: Browser, jobs: Jobs
) -> None:
    response = await browser.get("/")
    assert response.status_code == 200
    html = response.text
    for queue in ("mail", "reports"):
        assert f">{queue}</a></th>" in html
    # reports: one dead, linked to the filtered job list
    assert 'href="/jobs?queue=reports&amp;status=dead">1</a>' in html
    # mail: one scheduled, one available, one completed
    assert 'href="/jobs?queue=mail&amp;status=scheduled">1</a>' in html
    assert 'href="/jobs?queue=mail&amp;status=completed">1</a>' in html
    # the outcomes the store recorded: one completed, one dead; failure rate 50 %
    assert "50.0%" in html
    assert re.search(r'<rect class="completed"', html)
    assert re.search(r'<rect class="dead"', html)


async def test_overview_live_refresh_returns_only_the_fragment(
    browser: Browser, jobs: Jobs
) -> None:
    response = await browser.get("/", headers={"X-Backyard-Live": "1"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'class="tiles"' in response.text


async def test_overview_of_an_empty_store(browser: Browser) -> None:
    response = await browser.get("/")
    assert response.status_code == 200
    assert "No jobs yet" in response.text


async def test_jobs_list_filters_by_queue_and_status(browser: Browser, jobs: Jobs) -> None:
    everything = (await browser.get("/jobs")).text
    assert row_count(everything) == 4

    mail = (await browser.get("/jobs", params={"queue": "mail"})).text
    assert row_count(mail) == 3
    assert jobs.dead.id not in mail

    dead = (await browser.get("/jobs", params={"status": "dead"})).text
    assert row_count(dead) == 1
    assert jobs.dead.id in dead

    scheduled_mail = (
        await browser.get("/jobs", params={"queue": "mail", "status": "scheduled"})
    ).text
    assert row_count(scheduled_mail) == 1 and jobs.scheduled in scheduled_mail

    assert (await browser.get("/jobs", params={"status": "bogus"})).status_code == 400


async def test_jobs_list_pages_newest_first(browser: Browser, live_store: Queue) -> None:
    ids = [await push(live_store, queue="bulk") for _ in range(12)]  # page size is 5
    pages = []
    for number in (1, 2, 3):
        html = (await browser.get("/jobs", params={"queue": "bulk", "page": str(number)})).text
        pages.append([job_id for job_id in reversed(ids) if job_id in html])
    assert pages == [ids[::-1][0:5], ids[::-1][5:10], ids[::-1][10:12]]
    first = (await browser.get("/jobs", params={"queue": "bulk"})).text
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert "page=2" in first and "queue=bulk" in first  # the filter survives paging
    last = (await browser.get("/jobs", params={"queue": "bulk", "page": "3"})).text
    assert 'rel="next"' not in last and 'rel="prev"' in last


async def test_job_detail_shows_payload_options_errors_and_times(
    browser: Browser, jobs: Jobs
) -> None:
    html = (await browser.get(f"/jobs/{jobs.dead.id}")).text
    assert jobs.dead.id in html
    assert "tests.Report" in html
    assert "Why it died" in html
    assert "reports API answered 503" in html
    assert "Traceback (most recent call last)" in html  # the stored traceback, in full
    assert "&#34;report&#34;: &#34;daily&#34;" in html  # payload pretty-printed (and escaped)
    assert "reports" in html and "Attempt" in html and "1 of 4" in html
    for label in ("Enqueued", "Run at", "Started", "Finished"):
        assert f"<dt>{label}</dt>" in html
    assert jobs.dead.finished_at is not None
    assert jobs.dead.finished_at.strftime("%Y-%m-%d %H:%M") in html
    # the actions a dead job allows
    assert f'action="/jobs/{jobs.dead.id}/retry"' in html
    assert f'action="/jobs/{jobs.dead.id}/delete"' in html
    assert f'action="/jobs/{jobs.dead.id}/cancel"' not in html


async def test_job_detail_of_waiting_and_finished_jobs(browser: Browser, jobs: Jobs) -> None:
    waiting = (await browser.get(f"/jobs/{jobs.scheduled}")).text
    assert "status-scheduled" in waiting
    assert f'action="/jobs/{jobs.scheduled}/cancel"' in waiting
    assert "data-live " in waiting  # still changing: refreshes itself
    done = (await browser.get(f"/jobs/{jobs.completed.id}")).text
    assert "status-completed" in done and "No failed attempts" in done
    assert "data-live " not in done  # final: nothing more to watch
    assert f'action="/jobs/{jobs.completed.id}/retry"' not in done


async def test_unknown_job_is_404(browser: Browser) -> None:
    response = await browser.get("/jobs/no-such-job")
    assert response.status_code == 404
    assert "No job with id no-such-job" in response.text


async def test_dead_view_lists_dead_jobs_with_their_last_error(
    browser: Browser, jobs: Jobs
) -> None:
    html = (await browser.get("/dead")).text
    assert row_count(html) == 1
    assert jobs.dead.id in html and "reports API answered 503" in html
    assert "Retry all" in html and "Delete all" in html
    filtered = (await browser.get("/dead", params={"queue": "mail"})).text
    assert row_count(filtered) == 0 and "No dead jobs in queue mail" in filtered


async def test_scheduled_view_lists_jobs_waiting_for_their_time(
    browser: Browser, jobs: Jobs
) -> None:
    html = (await browser.get("/scheduled")).text
    assert row_count(html) == 1
    assert jobs.scheduled in html and "in 59m" in html and "delayed" in html
    assert f'action="/jobs/{jobs.scheduled}/cancel"' in html


async def test_workers_view_shows_live_workers(browser: Browser, live_store: Queue) -> None:
    assert "No worker is alive" in (await browser.get("/workers")).text
    now = live_store.now_datetime()
    await live_store.register_worker(
        WorkerInfo(
            id="web-1-abc123",
            host="web-1",
            pid=4242,
            queues=("mail", "reports"),
            concurrency=16,
            started_at=now - timedelta(minutes=5),
            last_seen=now,
            running=3,
            processed=1234,
            failed=7,
        ),
        ttl=30,
    )
    html = (await browser.get("/workers")).text
    for text in ("web-1-abc123", "web-1", "4242", "mail, reports", "3/16", "1234"):
        assert text in html
    assert re.search(r"<td>5m \d\ds</td>", html)  # up for five minutes
    assert "just now" in html or "s ago" in html  # the last heartbeat


async def test_pages_link_to_static_files_that_are_served(browser: Browser) -> None:
    html = (await browser.get("/")).text
    for asset in ("/static/dashboard.css", "/static/dashboard.js"):
        assert f'"{asset}"' in html
        assert (await browser.get(asset)).status_code == 200


async def test_status_counts_on_the_jobs_page(browser: Browser, jobs: Jobs) -> None:
    html = (await browser.get("/jobs", params={"queue": "mail"})).text
    counts = dict(re.findall(r'class="chip-(\w+)[^"]*">\w+ <span class="count">(\d+)</span>', html))
    assert counts == {
        "scheduled": "1",
        "available": "1",
        "running": "0",
        "completed": "1",
        "dead": "0",
        "cancelled": "0",
    }
    assert JobStatus.DEAD.value in counts
