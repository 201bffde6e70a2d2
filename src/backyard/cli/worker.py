"""``backyard worker``: run jobs, in one process or several under a supervisor."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from dataclasses import dataclass
from datetime import timedelta

import click

from .._connect import URL_ENV, connect
from .._errors import StorageError
from .._job import registry
from .._queue import Queue
from ..worker import Worker, WorkerHook
from ..worker._supervisor import SLOT_ENV, Supervisor, watch_supervisor
from ._app import Settings, cli, fail, import_modules, run_async
from ._logging import FORMATS, LEVELS, configure_logging
from ._params import Duration, split_queues

log = logging.getLogger("backyard.worker")


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    queues: tuple[str, ...]
    concurrency: int
    lease: timedelta
    poll_interval: timedelta
    shutdown_grace: timedelta
    prune_after: timedelta | None
    stop_when_empty: bool
    log_level: str
    log_format: str
    metrics_port: int | None


@cli.command()
@click.argument("modules", nargs=-1, required=True, metavar="MODULE...")
@click.option(
    "-q",
    "--queues",
    multiple=True,
    metavar="NAME[,NAME…]",
    default=("default",),
    callback=split_queues,
    show_default=True,
    help="Queues to take jobs from, comma-separated or repeated.",
)
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Jobs run at once, per process.",
)
@click.option(
    "-p",
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes; more than 1 runs them under a supervisor.",
)
@click.option(
    "--lease",
    type=Duration(),
    default="30s",
    show_default=True,
    help="How long a claimed job stays reserved without a heartbeat: the longest a "
    "crashed worker's jobs wait before running elsewhere.",
)
@click.option(
    "--poll-interval",
    type=Duration(),
    default="1s",
    show_default=True,
    help="Longest an idle worker waits before looking for jobs again.",
)
@click.option(
    "--shutdown-grace",
    type=Duration(positive=False),
    default="30s",
    show_default=True,
    help="On a stop, how long running jobs may finish before they are interrupted "
    "and given back to the queue.",
)
@click.option(
    "--prune-after",
    type=Duration(never=True),
    default="7d",
    show_default=True,
    help="Delete finished jobs this long after they finished, or never.",
)
@click.option(
    "--stop-when-empty",
    is_flag=True,
    help="Exit once the queues hold no waiting or running jobs (scripts, batch runs).",
)
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
)
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text: one readable line per record; json: one JSON object per line.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    default=None,
    metavar="PORT",
    help="Serve Prometheus metrics at http://0.0.0.0:PORT/metrics (needs backyard[dashboard]). "
    "With --processes N, process i serves on PORT+i.",
)
# Set by the supervisor on the children it starts (see worker/_supervisor.py).
@click.option("--supervisor-pid", type=int, default=None, hidden=True)
@click.pass_obj
def worker(
    settings: Settings,
    modules: tuple[str, ...],
    queues: tuple[str, ...],
    concurrency: int,
    processes: int,
    lease: timedelta,
    poll_interval: timedelta,
    shutdown_grace: timedelta,
    prune_after: timedelta | None,
    stop_when_empty: bool,
    log_level: str,
    log_format: str,
    metrics_port: int | None,
    supervisor_pid: int | None,
) -> None:
    """Run jobs from the job classes defined in MODULE(s).

    \b
    Examples:
      backyard worker app.jobs
      backyard worker app.jobs app.reports --queues default,mail --concurrency 20
      backyard worker app.jobs --processes 4 --log-format json

    The first SIGINT/SIGTERM (Ctrl-C) lets running jobs finish (up to
    --shutdown-grace), the second stops at once; jobs it was running then
    return to the queue when their leases expire. With --processes N a
    supervisor passes each signal on to every worker process and restarts
    any that dies on its own.
    """
    options = WorkerOptions(
        queues=queues,
        concurrency=concurrency,
        lease=lease,
        poll_interval=poll_interval,
        shutdown_grace=shutdown_grace,
        prune_after=prune_after,
        stop_when_empty=stop_when_empty,
        log_level=log_level.lower(),
        log_format=log_format,
        metrics_port=metrics_port,
    )
    configure_logging(options.log_level, options.log_format)
    import_modules(modules)
    names = registry.names()
    if not names:
        fail(
            f"no job classes were registered by importing {', '.join(modules)}: is that the "
            "module that defines your Job subclasses?"
        )
    if supervisor_pid is None:  # children would only repeat it
        log.info("job classes: %s", ", ".join(names))
    if processes == 1:
        _work(settings, options, supervisor_pid)
        return
    _check_store(settings)  # fail once here, rather than N children failing in a loop
    supervisor = Supervisor(
        _child_command(modules, options),
        processes,
        env={**os.environ, URL_ENV: settings.url},  # not in argv, where ps shows passwords
        restart_clean_exit=not stop_when_empty,
    )
    raise SystemExit(asyncio.run(supervisor.run()))


@run_async
async def _work(settings: Settings, options: WorkerOptions, supervisor_pid: int | None) -> None:
    hooks = _metrics_hooks(options.metrics_port)
    async with await open_when_reachable(settings.url) as store:
        worker = Worker(
            store,
            queues=options.queues,
            concurrency=options.concurrency,
            lease=options.lease,
            poll_interval=options.poll_interval,
            shutdown_grace=options.shutdown_grace,
            prune_after=options.prune_after,
            stop_when_empty=options.stop_when_empty,
            hooks=hooks,
        )
        watcher = None
        if supervisor_pid is not None:
            watcher = asyncio.create_task(watch_supervisor(worker, supervisor_pid))
        try:
            await worker.run()
        finally:
            if watcher is not None:
                watcher.cancel()


def _metrics_hooks(base_port: int | None) -> list[WorkerHook]:
    """Start this process's metrics endpoint, if asked; the hook that feeds it."""
    if base_port is None:
        return []
    try:
        from ..metrics import start_metrics_server, worker_metrics_hook
    except ImportError as exc:
        fail(
            f"--metrics-port needs prometheus-client ({exc.name}): pip install 'backyard[dashboard]'"
        )
    port = base_port + int(os.environ.get(SLOT_ENV, "1")) - 1 if base_port else 0
    try:
        server = start_metrics_server(port)
    except OSError as exc:
        fail(f"cannot serve metrics on port {port}: {exc.strerror or exc}")
    log.info("metrics at http://0.0.0.0:%d/metrics", server.server_port)
    return [worker_metrics_hook()]


async def open_when_reachable(url: str, max_delay: float = 30.0) -> Queue:
    """Open the store, waiting with backoff while it is unreachable.

    A worker started before its database (a reboot, a deploy, a failover)
    should wait for it, not die. A wrong URL or a missing driver is not
    something waiting fixes: ``ConfigurationError`` still fails at once.
    """
    delay = 0.5
    while True:
        store = connect(url)
        try:
            await store.open()
            return store
        except StorageError as exc:
            await store.close()
            log.warning("cannot open the store yet, retrying in %.1fs: %s", delay, exc)
        await asyncio.sleep(delay)
        delay = min(max_delay, delay * 2)


@run_async
async def _check_store(settings: Settings) -> None:
    """Fail once, in the supervisor, on a URL no child could use (bad scheme, no driver)."""
    connect(settings.url)


def _child_command(modules: tuple[str, ...], options: WorkerOptions) -> list[str]:
    """The argv of one supervised child: this same command with ``--processes 1``."""

    def duration(value: timedelta | None) -> str:
        # Fixed-point seconds: parse_duration reads them back exactly.
        return "never" if value is None else f"{value.total_seconds():.3f}s"

    command = [
        sys.executable,
        "-m",
        "backyard",
        "worker",
        *modules,
        "--queues",
        ",".join(options.queues),
        "--concurrency",
        str(options.concurrency),
        "--processes",
        "1",
        "--lease",
        duration(options.lease),
        "--poll-interval",
        duration(options.poll_interval),
        "--shutdown-grace",
        duration(options.shutdown_grace),
        "--prune-after",
        duration(options.prune_after),
        "--log-level",
        options.log_level,
        "--log-format",
        options.log_format,
        "--supervisor-pid",
        str(os.getpid()),
    ]
    if options.stop_when_empty:
        command.append("--stop-when-empty")
    if options.metrics_port is not None:
        command += ["--metrics-port", str(options.metrics_port)]
    return command
