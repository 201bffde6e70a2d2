"""``backyard status``: how many jobs each queue holds, and which workers are alive."""

from __future__ import annotations

import click
from rich.text import Text

from .._queue import Queue, redact_url
from .._records import JobStatus, WorkerInfo
from ._app import Settings, cli, console, emit_json, json_flag, run_async, with_store
from ._format import STATUS_ORDER, STATUS_STYLE, human_duration, relative, table, worker_json


@cli.command()
@json_flag
@click.pass_obj
@run_async
async def status(settings: Settings) -> None:
    """Jobs per queue by status, and the live workers.

    \b
    Examples:
      backyard status
      backyard status --json | jq '.queues.mail.dead'
    """

    async def body(store: Queue) -> None:
        depths = await store.queue_depths()
        workers = sorted(await store.workers(), key=lambda w: (w.host, w.started_at, w.id))
        if settings.as_json:
            emit_json(
                {
                    "queues": {
                        queue: {status.value: counts.get(status, 0) for status in STATUS_ORDER}
                        for queue, counts in sorted(depths.items())
                    },
                    "workers": [worker_json(info) for info in workers],
                }
            )
            return
        console.print(f"[bold]storage[/] {redact_url(settings.url)}", highlight=False)
        _print_queues(depths)
        _print_workers(workers, store)

    await with_store(settings, body)


def _print_queues(depths: dict[str, dict[JobStatus, int]]) -> None:
    if not depths:
        console.print("no jobs stored yet")
        return
    grid = table("queue", *(status.value for status in STATUS_ORDER), title="Queues")
    for column in grid.columns[1:]:
        column.justify = "right"
    for queue, counts in sorted(depths.items()):
        cells = []
        for status in STATUS_ORDER:
            count = counts.get(status, 0)
            cells.append(Text(str(count), style=STATUS_STYLE[status] if count else "dim"))
        grid.add_row(queue, *cells)
    console.print(grid)


def _print_workers(workers: list[WorkerInfo], store: Queue) -> None:
    if not workers:
        console.print("no live workers")
        return
    now = store.now_datetime()
    grid = table(
        "worker", "pid", "queues", "running", "processed", "failed", "up", "seen", title="Workers"
    )
    for info in workers:
        grid.add_row(
            info.id,
            str(info.pid),
            ",".join(info.queues),
            f"{info.running}/{info.concurrency}",
            str(info.processed),
            str(info.failed),
            human_duration(now - info.started_at),
            relative(info.last_seen, now),
        )
    console.print(grid)
