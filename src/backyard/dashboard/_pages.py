"""The dashboard's pages (GET): each reads the store and renders one template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .._records import JobRecord, JobStatus
from ..metrics import CONTENT_TYPE, store_metrics
from ._overview import build_overview

if TYPE_CHECKING:
    from ._app import Dashboard


def dashboard_of(request: Request) -> Dashboard:
    dash: Dashboard = request.app.state.dashboard
    return dash


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a job list: its rows and where the neighbours are."""

    records: list[JobRecord]
    number: int
    size: int
    has_next: bool

    @property
    def first_row(self) -> int:
        return (self.number - 1) * self.size + 1


def page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def status_filter(request: Request) -> JobStatus | None:
    value = request.query_params.get("status") or ""
    try:
        return JobStatus(value) if value else None
    except ValueError:
        raise HTTPException(400, f"unknown status {value!r}") from None


async def list_page(request: Request, status: JobStatus | None, queue: str | None) -> Page:
    dash = dashboard_of(request)
    store = await dash.store()
    number = page_number(request)
    # One row more than shown tells whether a next page exists, with no count query.
    rows = await store.list(
        queue=queue, status=status, limit=dash.page_size + 1, offset=(number - 1) * dash.page_size
    )
    return Page(rows[: dash.page_size], number, dash.page_size, len(rows) > dash.page_size)


async def overview(request: Request) -> Response:
    dash = dashboard_of(request)
    summary = await build_overview(await dash.store())
    return dash.render(
        request, "overview.html", {"overview": summary}, fragment="_overview_live.html"
    )


async def jobs(request: Request) -> Response:
    dash = dashboard_of(request)
    store = await dash.store()
    queue = request.query_params.get("queue") or None
    status = status_filter(request)
    depths = await store.queue_depths()
    page = await list_page(request, status, queue)
    counts = dict.fromkeys(JobStatus, 0)
    for name, by_status in depths.items():
        if queue is None or name == queue:
            for each, count in by_status.items():
                counts[each] += count
    return dash.render(
        request,
        "jobs.html",
        {
            "page": page,
            "queue": queue,
            "status": status,
            "queues": sorted(depths),
            "counts": counts,
        },
        fragment="_jobs_live.html",
    )


async def job(request: Request) -> Response:
    dash = dashboard_of(request)
    store = await dash.store()
    job_id = request.path_params["job_id"]
    record = await store.get(job_id)
    if record is None:
        raise HTTPException(404, f"No job with id {job_id} (it may have been deleted or pruned).")
    return dash.render(request, "job.html", {"job": record}, fragment="_job_live.html")


async def dead(request: Request) -> Response:
    dash = dashboard_of(request)
    store = await dash.store()
    queue = request.query_params.get("queue") or None
    depths = await store.queue_depths()
    page = await list_page(request, JobStatus.DEAD, queue)
    dead_counts = {name: counts.get(JobStatus.DEAD, 0) for name, counts in depths.items()}
    return dash.render(
        request,
        "dead.html",
        {
            "page": page,
            "queue": queue,
            "dead_counts": dead_counts,
            "queues": sorted(name for name, count in dead_counts.items() if count or name == queue),
            "total": sum(dead_counts.values()) if queue is None else dead_counts.get(queue, 0),
        },
    )


async def scheduled(request: Request) -> Response:
    dash = dashboard_of(request)
    queue = request.query_params.get("queue") or None
    page = await list_page(request, JobStatus.SCHEDULED, queue)
    store = await dash.store()
    depths = await store.queue_depths()
    return dash.render(
        request,
        "scheduled.html",
        {"page": page, "queue": queue, "queues": sorted(depths)},
    )


async def workers(request: Request) -> Response:
    dash = dashboard_of(request)
    store = await dash.store()
    return dash.render(
        request,
        "workers.html",
        {"workers": await store.workers()},
        fragment="_workers_live.html",
    )


async def metrics(request: Request) -> Response:
    dash = dashboard_of(request)
    body = await store_metrics(await dash.store())
    return Response(body, media_type=CONTENT_TYPE)
