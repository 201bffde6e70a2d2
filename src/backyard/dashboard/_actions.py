"""The dashboard's actions (POST): retry, cancel, delete, and the dead-letter bulk ones.

Each is a plain HTML form post that answers with a redirect (303) back to
the page it came from, plus a one-time notice saying what happened; the
pages work without JavaScript. Every action checks the read-only switch
and the CSRF token before touching the store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .._queue import Queue
from .._records import JobStatus

if TYPE_CHECKING:
    from ._app import Dashboard

# The body of an action: does the work, returns the notice to show.
ActionBody = Callable[[Request, Queue, FormData], Awaitable[str]]

DELETE_BATCH = 500


def action(body: ActionBody) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        dash: Dashboard = request.app.state.dashboard
        if dash.read_only:
            raise HTTPException(403, "This dashboard is read-only: actions are turned off.")
        form = await request.form()
        if not dash.csrf.check(request, form):
            raise HTTPException(
                403,
                "The form's security token is missing or stale. Reload the page and try again.",
            )
        notice = await body(request, await dash.store(), form)
        response = RedirectResponse(next_page(request, form), status_code=303)
        dash.set_notice(request, response, notice)
        return response

    endpoint.__name__ = body.__name__
    endpoint.__doc__ = body.__doc__
    return endpoint


def next_page(request: Request, form: FormData) -> str:
    """Where to go after an action: the form's ``next``, if it stays in this dashboard."""
    fallback = request.url_for("overview").path
    wanted = form.get("next")
    root = request.scope.get("root_path", "") or ""
    if (
        not isinstance(wanted, str)
        or not wanted.startswith(root + "/")
        or wanted.startswith("//")  # a scheme-relative URL would leave the site
        or "\\" in wanted  # browsers read a backslash as a slash
    ):
        return fallback
    return wanted


async def why_not(store: Queue, job_id: str, done: str) -> str:
    record = await store.get(job_id)
    if record is None:
        return f"Job {job_id} no longer exists."
    return f"Job {job_id} was not {done}: it is {record.status.value}."


@action
async def retry(request: Request, store: Queue, form: FormData) -> str:
    """Put a dead or cancelled job back in its queue, with a fresh retry budget."""
    job_id = request.path_params["job_id"]
    if await store.requeue(job_id):
        return f"Job {job_id} is back in its queue."
    return await why_not(store, job_id, "retried")


@action
async def cancel(request: Request, store: Queue, form: FormData) -> str:
    """Cancel a job that has not started."""
    job_id = request.path_params["job_id"]
    if await store.cancel(job_id):
        return f"Job {job_id} is cancelled."
    return await why_not(store, job_id, "cancelled")


@action
async def delete(request: Request, store: Queue, form: FormData) -> str:
    """Delete a job that is not running."""
    job_id = request.path_params["job_id"]
    if await store.delete(job_id):
        return f"Job {job_id} is deleted."
    return await why_not(store, job_id, "deleted")


def queue_field(form: FormData) -> str | None:
    value = form.get("queue")
    return value if isinstance(value, str) and value else None


@action
async def retry_dead(request: Request, store: Queue, form: FormData) -> str:
    """Put every dead job (of one queue, or of all) back in its queue."""
    queue = queue_field(form)
    count = await store.requeue_dead(queue)
    where = f" of queue {queue}" if queue else ""
    return f"Put {count} dead job{'s' if count != 1 else ''}{where} back in the queue."


@action
async def delete_dead(request: Request, store: Queue, form: FormData) -> str:
    """Delete every dead job (of one queue, or of all)."""
    queue = queue_field(form)
    count = await delete_all_dead(store, queue)
    where = f" of queue {queue}" if queue else ""
    return f"Deleted {count} dead job{'s' if count != 1 else ''}{where}."


async def delete_all_dead(store: Queue, queue: str | None) -> int:
    deleted = 0
    while True:
        batch = await store.list(queue=queue, status=JobStatus.DEAD, limit=DELETE_BATCH)
        if not batch:
            return deleted
        removed = 0
        for record in batch:
            removed += await store.delete(record.id)
        deleted += removed
        if not removed:
            # Listed as dead yet none could be deleted: stop rather than spin.
            return deleted
