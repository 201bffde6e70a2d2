"""``backyard jobs``: list, inspect, retry, cancel and delete jobs."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import click
from rich.console import Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .._queue import Queue
from .._records import JobRecord, JobStatus
from ._app import (
    Settings,
    cli,
    console,
    emit_json,
    error_line,
    fail,
    json_flag,
    run_async,
    with_store,
)
from ._format import (
    attempts,
    first_line,
    human_duration,
    job_json,
    keep_whole,
    payload_value,
    status_text,
    table,
    timestamp,
    when,
)

RETRYABLE = frozenset({JobStatus.DEAD, JobStatus.CANCELLED})
CANCELLABLE = frozenset({JobStatus.SCHEDULED, JobStatus.AVAILABLE})


@cli.group()
def jobs() -> None:
    """List, inspect, retry, cancel and delete jobs."""


# -- reading ------------------------------------------------------------------


@jobs.command("list")
@click.option("-q", "--queue", default=None, help="Only this queue.")
@click.option(
    "-s",
    "--status",
    type=click.Choice([s.value for s in JobStatus]),
    default=None,
    help="Only jobs in this status.",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@json_flag
@click.pass_obj
@run_async
async def list_jobs(
    settings: Settings, queue: str | None, status: str | None, limit: int, offset: int
) -> None:
    """Jobs, newest enqueued first.

    \b
    Examples:
      backyard jobs list --status dead
      backyard jobs list --queue mail --limit 20 --offset 20
      backyard jobs list --status dead --json | jq -r '.[].id'
    """

    async def body(store: Queue) -> None:
        records = await store.list(
            queue=queue, status=JobStatus(status) if status else None, limit=limit, offset=offset
        )
        if settings.as_json:
            emit_json([job_json(record) for record in records])
            return
        if not records:
            console.print("no jobs match")
            return
        now = store.now_datetime()
        grid = table("id", "name", "queue", "status", "attempt", "when", "last error")
        for record in records:
            error = record.last_error
            grid.add_row(
                record.id,
                record.name,
                record.queue,
                status_text(record.status),
                attempts(record),
                when(record, now),
                Text(first_line(error.message, 100) if error else "", style="red"),
            )
        keep_whole(grid, 0, 3)
        console.print(grid)

    await with_store(settings, body)


@jobs.command()
@click.argument("job_id", metavar="ID")
@json_flag
@click.pass_obj
@run_async
async def show(settings: Settings, job_id: str) -> None:
    """Everything about one job: payload, options, times and every error.

    \b
    Example:
      backyard jobs show 0190f6c2-5d0e-7a3b-9c1e-4f2a8b6d3e10
    """

    async def body(store: Queue) -> None:
        record = await _get(store, job_id)
        if settings.as_json:
            emit_json(job_json(record))
        else:
            _print_job(record, store)

    await with_store(settings, body)


def _print_job(record: JobRecord, store: Queue) -> None:
    now = store.now_datetime()
    head = Text.assemble((record.name, "bold"), "  ", status_text(record.status))
    console.print(head)
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="dim")
    fields.add_column()
    fields.add_row("id", record.id)
    fields.add_row("queue", record.queue)
    fields.add_row("priority", str(record.priority))
    fields.add_row(
        "attempts", f"{attempts(record)} ({record.max_retries} retries after the first attempt)"
    )
    fields.add_row("timeout", human_duration(record.timeout) if record.timeout else "none")
    fields.add_row("enqueued", timestamp(record.enqueued_at, now))
    fields.add_row("run at", timestamp(record.run_at, now))
    fields.add_row("started", timestamp(record.started_at, now))
    fields.add_row("finished", timestamp(record.finished_at, now))
    if record.status is JobStatus.RUNNING:
        fields.add_row("lease until", timestamp(record.lease_expires_at, now))
    fields.add_row("worker", record.worker_id or "-")
    console.print(fields)
    payload = json.dumps(payload_value(record.payload), indent=2, ensure_ascii=False)
    console.print(
        Panel(Syntax(payload, "json", word_wrap=True), title="payload", title_align="left")
    )
    if not record.errors:
        return
    console.print(f"[bold]errors[/] ({len(record.errors)})")
    for error in record.errors:
        title = Text.assemble(
            (f"attempt {error.attempt}", "bold"), f" at {timestamp(error.at, now)}: ",
            (error.message, "red"),
        )  # fmt: skip
        body = Text(error.traceback.rstrip()) if error.traceback else Text("no traceback", "dim")
        console.print(Panel(Group(title, body), border_style="red"))


# -- acting -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    """What one action did to one job, for the person and for --json."""

    id: str
    action: str
    ok: bool
    message: str
    status: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "action": self.action,
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
        }


async def _retry_one(store: Queue, job_id: str) -> Result:
    record = await store.get(job_id)
    if record is None:
        return Result(job_id, "retry", False, f"no job with id {job_id}")
    if record.status not in RETRYABLE:
        return Result(
            job_id,
            "retry",
            False,
            f"job {job_id} is {record.status.value}; only dead or cancelled jobs can be retried",
            record.status.value,
        )
    if not await store.requeue(job_id):
        return await _changed_meanwhile(store, job_id, "retry", "retried")
    return Result(
        job_id,
        "retry",
        True,
        f"job {job_id} ({record.name}) is available again, with a fresh retry budget",
        JobStatus.AVAILABLE.value,
    )


async def _cancel_one(store: Queue, job_id: str) -> Result:
    record = await store.get(job_id)
    if record is None:
        return Result(job_id, "cancel", False, f"no job with id {job_id}")
    if record.status not in CANCELLABLE:
        reason = (
            "it cannot be stopped from outside; it ends when its attempt does"
            if record.status is JobStatus.RUNNING
            else "only scheduled or available jobs can be cancelled"
        )
        return Result(
            job_id,
            "cancel",
            False,
            f"job {job_id} is {record.status.value}; {reason}",
            record.status.value,
        )
    if not await store.cancel(job_id):
        return await _changed_meanwhile(store, job_id, "cancel", "cancelled")
    return Result(
        job_id, "cancel", True, f"job {job_id} ({record.name}) cancelled", JobStatus.CANCELLED.value
    )


async def _delete_one(store: Queue, job_id: str) -> Result:
    record = await store.get(job_id)
    if record is None:
        return Result(job_id, "delete", False, f"no job with id {job_id}")
    if record.status is JobStatus.RUNNING:
        return Result(
            job_id,
            "delete",
            False,
            f"job {job_id} is running; a running job cannot be deleted (wait for it to finish)",
            record.status.value,
        )
    if not await store.delete(job_id):
        return await _changed_meanwhile(store, job_id, "delete", "deleted")
    return Result(job_id, "delete", True, f"job {job_id} ({record.name}) deleted")


async def _changed_meanwhile(store: Queue, job_id: str, action: str, done: str) -> Result:
    # Between our read and our write a worker (or another person) moved the job.
    record = await store.get(job_id)
    now = record.status.value if record else "gone"
    return Result(
        job_id, action, False, f"job {job_id} changed meanwhile (now {now}); not {done}", now
    )


def _report(settings: Settings, results: list[Result]) -> None:
    """Print what happened to each job; exit 1 if anything was not done."""
    if settings.as_json:
        emit_json([result.to_dict() for result in results])
    else:
        for result in results:
            if result.ok:
                console.print(result.message, highlight=False, soft_wrap=True)
            else:
                error_line(result.message)
    if not all(result.ok for result in results):
        raise SystemExit(1)


@run_async
async def _act(
    settings: Settings, ids: tuple[str, ...], action: Callable[[Queue, str], Awaitable[Result]]
) -> list[Result]:
    async def body(store: Queue) -> list[Result]:
        return [await action(store, job_id) for job_id in dict.fromkeys(ids)]

    return await with_store(settings, body)


@jobs.command()
@click.argument("job_ids", metavar="[ID]...", nargs=-1)
@click.option("--all-dead", is_flag=True, help="Retry every dead job (of --queue, if given).")
@click.option("-q", "--queue", default=None, help="With --all-dead: only this queue.")
@json_flag
@click.pass_obj
def retry(settings: Settings, job_ids: tuple[str, ...], all_dead: bool, queue: str | None) -> None:
    """Make dead or cancelled jobs available again, with a fresh retry budget.

    \b
    Examples:
      backyard jobs retry 0190f6c2-5d0e-7a3b-9c1e-4f2a8b6d3e10
      backyard jobs retry --all-dead --queue mail
    """
    if all_dead == bool(job_ids):
        raise click.UsageError("give job ids or --all-dead, not both and not neither")
    if queue and not all_dead:
        raise click.UsageError("--queue only goes with --all-dead")
    if all_dead:
        _retry_all_dead(settings, queue)
        return
    _report(settings, _act(settings, job_ids, _retry_one))


@run_async
async def _retry_all_dead(settings: Settings, queue: str | None) -> None:
    count = await with_store(settings, lambda store: store.requeue_dead(queue))
    where = f" in queue {queue!r}" if queue else ""
    if settings.as_json:
        emit_json({"action": "retry", "ok": count > 0, "requeued": count, "queue": queue})
    elif count:
        console.print(f"{count} dead job(s){where} are available again")
    if not count:
        fail(f"no dead jobs{where}; nothing retried")


@jobs.command()
@click.argument("job_ids", metavar="ID...", nargs=-1, required=True)
@json_flag
@click.pass_obj
def cancel(settings: Settings, job_ids: tuple[str, ...]) -> None:
    """Cancel jobs that have not started (scheduled or available).

    \b
    Example:
      backyard jobs cancel 0190f6c2-5d0e-7a3b-9c1e-4f2a8b6d3e10
    """
    _report(settings, _act(settings, job_ids, _cancel_one))


@jobs.command()
@click.argument("job_ids", metavar="ID...", nargs=-1, required=True)
@json_flag
@click.pass_obj
def delete(settings: Settings, job_ids: tuple[str, ...]) -> None:
    """Delete jobs for good (any status but running).

    \b
    Example:
      backyard jobs delete 0190f6c2-5d0e-7a3b-9c1e-4f2a8b6d3e10
    """
    _report(settings, _act(settings, job_ids, _delete_one))


async def _get(store: Queue, job_id: str) -> JobRecord:
    record = await store.get(job_id)
    if record is None:
        fail(f"no job with id {job_id}")
    return record
