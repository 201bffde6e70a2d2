"""``backyard prune``: delete finished jobs older than a given age."""

from __future__ import annotations

from datetime import timedelta

import click

from .._queue import Queue
from ._app import Settings, cli, console, emit_json, json_flag, run_async, with_store
from ._format import human_duration
from ._params import Duration


@cli.command()
@click.option(
    "--older-than",
    "age",
    type=Duration(positive=False),
    required=True,
    help="Delete completed, dead and cancelled jobs that finished longer ago than this "
    "(30s, 15m, 12h, 7d).",
)
@json_flag
@click.pass_obj
@run_async
async def prune(settings: Settings, age: timedelta) -> None:
    """Delete completed, dead and cancelled jobs that finished before a cutoff.

    Waiting and running jobs are never pruned. Workers also prune on their
    own (see `backyard worker --prune-after`).

    \b
    Example:
      backyard prune --older-than 7d
    """

    async def body(store: Queue) -> None:
        before = store.now_datetime() - age
        count = await store.prune(before)
        if settings.as_json:
            emit_json({"pruned": count, "before": before.isoformat()})
        else:
            console.print(
                f"pruned {count} finished job(s) older than {human_duration(age)}", highlight=False
            )

    await with_store(settings, body)
