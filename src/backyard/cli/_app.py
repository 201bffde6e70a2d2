"""The ``backyard`` command group and what every command shares.

Each command lives in its own module and registers itself on ``cli``;
errors become one clear line on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click
from rich.console import Console

from .._connect import URL_ENV, connect, default_url
from .._errors import BackyardError
from .._queue import Queue

P = ParamSpec("P")
T = TypeVar("T")

console = Console()
errors = Console(stderr=True)


@dataclass
class Settings:
    url: str
    as_json: bool


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit; the one way commands report errors."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def run_async(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """Run an async command body, turning backyard errors into one clear line."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return asyncio.run(fn(*args, **kwargs))
        except BackyardError as exc:
            fail(str(exc))
            raise AssertionError("unreachable") from None
        except OSError as exc:
            fail(f"{exc.strerror or exc}")
            raise AssertionError("unreachable") from None

    return wrapper


async def with_store(settings: Settings, body: Callable[[Queue], Awaitable[T]]) -> T:
    async with connect(settings.url) as store:
        return await body(store)


def import_modules(modules: tuple[str, ...] | list[str]) -> None:
    """Import the user's job modules so their classes register."""
    if "" not in sys.path:
        sys.path.insert(0, "")  # like `python -m`: the current folder is importable
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            fail(f"cannot import job module {module!r}: {exc}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url",
    envvar=URL_ENV,
    default=None,
    metavar="URL",
    help=f"Storage URL (memory://, sqlite:///file.db, postgresql://…, redis://…). "
    f"Default: ${URL_ENV}, else {default_url()}.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of tables.")
@click.version_option(package_name="backyard")
@click.pass_context
def cli(ctx: click.Context, url: str | None, as_json: bool) -> None:
    """backyard: background jobs for asyncio Python."""
    ctx.obj = Settings(url=url or default_url(), as_json=as_json)


def main() -> None:
    # Commands register themselves on import.
    from . import commands  # noqa: F401

    cli(prog_name="backyard")
