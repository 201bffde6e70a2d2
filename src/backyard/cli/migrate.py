"""``backyard migrate``: bring a store's schema up to date, or print the SQL that would."""

from __future__ import annotations

from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import click

from .._connect import connect
from ._app import Settings, cli, console, emit_json, fail, json_flag, run_async


@runtime_checkable
class _Migratable(Protocol):
    """A backend with explicit, versioned migrations (PostgreSQL)."""

    async def migrate(self) -> list[str]: ...

    def migration_sql(self, after: int = 0) -> str: ...


@cli.command()
@click.option(
    "--sql",
    "print_sql",
    is_flag=True,
    help="Print the SQL of every migration instead of applying it, for teams that apply "
    "schema changes themselves (then start workers with ?migrate=false).",
)
@json_flag
@click.pass_obj
@run_async
async def migrate(settings: Settings, print_sql: bool) -> None:
    """Create or upgrade the store's tables.

    Workers and other processes do this on their own when they open a
    PostgreSQL store (several starting at once is safe); run it yourself
    before a deploy, or use --sql to review and apply the SQL by hand.

    \b
    Examples:
      backyard --url postgresql://app@db/app migrate
      backyard --url 'postgresql://app@db/app?schema=jobs' migrate --sql > backyard.sql
    """
    # Not opened: opening a PostgreSQL store migrates it already, and --sql
    # must work without touching the database.
    store = connect(settings.url)
    scheme = urlsplit(settings.url).scheme
    if not isinstance(store, _Migratable):
        if print_sql:
            fail(f"{scheme}:// stores have no SQL migrations to print; only postgresql:// does")
        async with store:  # opening prepares the storage
            pass
        applied: list[str] = []
    elif print_sql:
        click.echo(store.migration_sql(), nl=False)
        return
    else:
        applied = await store.migrate()
    if settings.as_json:
        emit_json({"applied": applied})
    elif applied:
        console.print(f"applied {len(applied)} migration(s): {', '.join(applied)}", highlight=False)
    else:
        console.print("the schema is up to date", highlight=False)
