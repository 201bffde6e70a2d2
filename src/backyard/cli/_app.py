"""The ``backyard`` command group and what every command shares.

Each command lives in its own module and registers itself on ``cli``;
errors become one clear line on stderr and a non-zero exit, never a
traceback: 1 when the command could not do its work, 2 for a usage error
(an unknown option, a bad duration or bad JSON), 130 on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from .._connect import DEFAULT_URL, URL_ENV, connect, default_url
from .._errors import BackyardError
from .._queue import Queue

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

console = Console()
errors = Console(stderr=True)

#: Set to 1 to see the traceback of an unexpected error instead of one line.
DEBUG_ENV = "BACKYARD_DEBUG"


@dataclass
class Settings:
    url: str
    as_json: bool


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit; the one way commands report errors."""
    error_line(message)
    raise SystemExit(code)


def error_line(message: str) -> None:
    """``error: <message>`` on stderr, as one line (markup in the message is not interpreted)."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def json_flag(fn: F) -> F:
    """``--json`` on a command, same as ``backyard --json <command>``."""

    def switch_on(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        settings = ctx.find_object(Settings)
        if value and settings is not None:
            settings.as_json = True

    return click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        callback=switch_on,
        help="Print JSON for scripts instead of tables.",
    )(fn)


def run_async(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """Run an async command body, turning every error into one clear line."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return asyncio.run(fn(*args, **kwargs))
        except BackyardError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.strerror or exc}")
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except Exception as exc:
            # A bug, or a driver error a backend did not wrap. One line still,
            # with the way to see more.
            if os.environ.get(DEBUG_ENV):
                raise
            fail(f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for the traceback)")

    return wrapper


async def with_store(settings: Settings, body: Callable[[Queue], Awaitable[T]]) -> T:
    async with connect(settings.url) as store:
        return await body(store)


def import_modules(modules: Sequence[str]) -> None:
    """Import the user's job modules so their classes register.

    A module that is missing, or that raises while it is imported, ends the
    command with one line naming the module, the error and where it
    happened.
    """
    if "" not in sys.path:
        sys.path.insert(0, "")  # like `python -m`: the current folder is importable
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and (module == exc.name or module.startswith(f"{exc.name}.")):
                fail(
                    f"cannot import job module {module!r}: no module named {exc.name!r} "
                    f"(run from the folder that contains it, or set PYTHONPATH)"
                )
            fail(f"cannot import job module {module!r}: {exc}")
        except Exception as exc:
            fail(f"cannot import job module {module!r}: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    """``"NameError: name 'x' is not defined (app/jobs.py:12)"``: the error and its innermost frame."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError):
        return text  # its message already names the file and line
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        text += f" ({frames[-1].filename}:{frames[-1].lineno})"
    return text


class BackyardGroup(click.Group):
    """A click group whose usage errors are one line, like every other error."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            raise SystemExit(exc.exit_code) from None
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else prog_name or "backyard"
            fail(f"{exc.format_message()} (see '{where} --help')", code=exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), code=exc.exit_code)
        except click.Abort:
            fail("aborted", code=130)
        # Commands return None; an int is the code of a click Exit (--help, --version).
        raise SystemExit(result if isinstance(result, int) else 0)


@click.group(cls=BackyardGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url",
    envvar=URL_ENV,
    default=None,
    metavar="URL",
    help=f"Storage URL (memory://, sqlite:///file.db, postgresql://…, redis://…). "
    # Not default_url(): that would print a password from the environment in --help.
    f"Default: ${URL_ENV}, else {DEFAULT_URL}.",
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
