"""``backyard dashboard``: serve the web dashboard with uvicorn."""

from __future__ import annotations

import ipaddress

import click

from .._connect import connect
from .._errors import ConfigurationError
from .._queue import redact_url
from ._app import Settings, cli, errors, fail

TOKEN_ENV = "BACKYARD_DASHBOARD_TOKEN"
USER_ENV = "BACKYARD_DASHBOARD_USER"
PASSWORD_ENV = "BACKYARD_DASHBOARD_PASSWORD"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8700, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--read-only", is_flag=True, help="Hide every action (retry, delete, cancel) and refuse them."
)
@click.option(
    "--token",
    envvar=TOKEN_ENV,
    metavar="TOKEN",
    help=f"Require this bearer token (or basic auth with it as the password). Prefer ${TOKEN_ENV}: "
    "a command-line argument is visible to other users in the process list.",
)
@click.option("--user", envvar=USER_ENV, metavar="NAME", help=f"Basic auth user (${USER_ENV}).")
@click.option(
    "--password",
    envvar=PASSWORD_ENV,
    metavar="PASSWORD",
    help=f"Basic auth password (${PASSWORD_ENV}).",
)
@click.option(
    "--refresh",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds between live refreshes of the overview; 0 turns them off.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="uvicorn's log level (info logs every request).",
)
@click.pass_obj
def dashboard(
    settings: Settings,
    host: str,
    port: int,
    read_only: bool,
    token: str | None,
    user: str | None,
    password: str | None,
    refresh: float,
    log_level: str,
) -> None:
    """Serve the web dashboard: queues, jobs, dead letters, workers, /metrics.

    Listens on 127.0.0.1:8700 unless told otherwise. Before listening on a
    public interface, set a token or a user and password.
    """
    try:
        import uvicorn

        from ..dashboard import create_app
    except ImportError as exc:
        fail(
            f"the dashboard needs its extra ({exc.name} is missing): pip install 'backyard[dashboard]'"
        )
        return
    if bool(user) != bool(password):
        fail(f"basic auth needs both --user and --password (or ${USER_ENV} and ${PASSWORD_ENV})")
    if settings.url.startswith("memory:"):
        fail(
            "memory:// lives inside one process, so a dashboard started on its own would show "
            "an empty store. Point it at the store your workers use (sqlite:///…, postgresql://…, "
            "redis://…), or mount backyard.dashboard.create_app(store) in the process that owns it."
        )
    try:
        connect(settings.url)  # a bad URL or a missing driver: one line, before uvicorn starts
    except ConfigurationError as exc:
        fail(str(exc))
    protected = bool(token or user)
    if not protected and not is_loopback(host):
        errors.print(
            f"[bold yellow]warning:[/] serving on {host} with no authentication: anyone who can "
            f"reach this port can retry and delete jobs. Set ${TOKEN_ENV} or --user/--password, "
            "or add --read-only.",
            highlight=False,
        )
    app = create_app(
        settings.url,
        read_only=read_only,
        auth_token=token or None,
        basic_auth=(user, password) if user and password else None,
        refresh_seconds=refresh,
    )
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    click.echo(
        f"backyard dashboard for {redact_url(settings.url)} on http://{shown}:{port}"
        + (" (read-only)" if read_only else "")
        + (" (authentication required)" if protected else "")
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)
