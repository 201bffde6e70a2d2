"""``backyard enqueue``: store one job from the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import click
from pydantic import ValidationError

from .._errors import ConfigurationError
from .._job import _summarize, registry
from .._options import DEFAULT_MAX_RETRIES, DEFAULT_PRIORITY, DEFAULT_QUEUE, JobOptions
from .._queue import Queue, build_request
from .._records import EnqueueRequest
from ._app import Settings, cli, emit_json, import_modules, run_async, with_store
from ._format import job_json
from ._params import Duration, JsonObject


@cli.command()
@click.argument("name")
@click.option(
    "--json",
    "payload",
    type=JsonObject(),
    default="{}",
    show_default=True,
    help="The job's payload: a JSON object, or - to read it from stdin. "
    "(To get JSON output, use `backyard --json enqueue …`.)",
)
@click.option("-q", "--queue", default=None, help=f"Queue name. [default: {DEFAULT_QUEUE}]")
@click.option(
    "--delay",
    type=Duration(positive=False),
    default=None,
    help="Run no sooner than this from now (30s, 5m…).",
)
@click.option(
    "--priority", type=int, default=None, help=f"Higher runs first. [default: {DEFAULT_PRIORITY}]"
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=None,
    help=f"Retries after the first attempt. [default: {DEFAULT_MAX_RETRIES}]",
)
@click.option("--timeout", type=Duration(), default=None, help="Interrupt an attempt after this.")
@click.option(
    "--import",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Import this job module and validate the payload against NAME's class first; "
    "the class's own options() then apply. Repeatable.",
)
@click.pass_obj
@run_async
async def enqueue(
    settings: Settings,
    name: str,
    payload: dict[str, Any],
    queue: str | None,
    delay: timedelta | None,
    priority: int | None,
    max_retries: int | None,
    timeout: timedelta | None,
    modules: tuple[str, ...],
) -> None:
    """Enqueue a job named NAME; prints its id.

    \b
    Examples:
      backyard enqueue SendEmail --json '{"to": "a@example.com", "subject": "hi"}'
      backyard enqueue Report --json '{}' --queue reports --delay 5m --priority 10
      echo '{"to": "b@example.com"}' | backyard enqueue SendEmail --json - --import app.jobs

    Without --import the payload is stored as given (the worker validates it
    when it runs the job) and the type's options() are not applied.
    """
    options = JobOptions(
        queue=queue, delay=delay, priority=priority, max_retries=max_retries, timeout=timeout
    )

    async def body(store: Queue) -> None:
        if modules:
            request = _validated_request(name, payload, options, store)
        else:
            request = EnqueueRequest(
                name=name,
                payload=json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
                queue=options.resolved_queue,
                priority=options.resolved_priority,
                max_retries=options.resolved_max_retries,
                run_at=options.run_at(store.now_datetime()),
                timeout=options.timeout_seconds,
            )
        job_id = await store.push(request)
        if settings.as_json:
            record = await store.get(job_id)
            emit_json(job_json(record) if record else {"id": job_id})
        else:
            click.echo(job_id)

    if modules:
        import_modules(modules)
    await with_store(settings, body)


def _validated_request(
    name: str, payload: dict[str, Any], options: JobOptions, store: Queue
) -> EnqueueRequest:
    if name not in registry:
        known = ", ".join(registry.names()) or "none"
        raise ConfigurationError(f"no job class is registered with NAME {name!r} (known: {known})")
    cls = registry.get(name)
    try:
        job = cls.model_validate(payload)
    except ValidationError as exc:
        raise ConfigurationError(
            f"payload does not match {cls.__module__}.{cls.__qualname__}: {_summarize(exc)}"
        ) from None
    return build_request(job, options, store.now_datetime())
