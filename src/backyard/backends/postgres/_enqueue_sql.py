"""Enqueue through a connection backyard does not own: psycopg, SQLAlchemy, Django.

The statement is the backend's own ``push`` query (insert plus NOTIFY),
with its ``$n`` placeholders rewritten to the named ``%(pn)s`` style that
psycopg 2 and 3, and SQLAlchemy's ``exec_driver_sql`` on them, accept.
Run it inside your transaction: the job exists only if it commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..._options import JobOptions
from ..._queue import build_request
from ..._records import EnqueueRequest, utcnow
from ._config import DEFAULT_SCHEMA, channel_name, quote_identifier, validate_schema
from ._sql import Queries

if TYPE_CHECKING:
    from ..._job import Job

_PLACEHOLDER = re.compile(r"\$(\d+)")
# psycopg 2 interpolates parameters client side, comments included: a value
# with a newline placed inside a "--" comment would end the comment and run
# as SQL. The statement therefore goes out without its comments.
_COMMENT_LINE = re.compile(r"^\s*--.*\n?", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class EnqueueStatement:
    """SQL with ``%(name)s`` placeholders, its parameters, and the new job's id."""

    sql: str
    params: dict[str, Any]
    job_id: str


def enqueue_statement(
    job: Job,
    options: JobOptions | None = None,
    *,
    schema: str = DEFAULT_SCHEMA,
    now: datetime | None = None,
) -> EnqueueStatement:
    """The INSERT (and NOTIFY) that enqueues ``job``, for a DB-API connection.

    ::

        statement = enqueue_statement(SendEmail(to="a@example.com", subject="hi"))
        with psycopg.connect(dsn) as conn:  # one transaction
            conn.execute("INSERT INTO orders ...")
            conn.execute(statement.sql, statement.params)

    ``now`` defaults to this machine's clock (the same clock the asyncio
    store uses). The schema must already be migrated.
    """
    validate_schema(schema)
    moment = now or utcnow()
    request = build_request(job, options, moment)
    quoted = quote_identifier(schema)
    sql = _PLACEHOLDER.sub(lambda m: f"%(p{m.group(1)})s", _push_sql(quoted).replace("%", "%%"))
    values = push_args(request, moment, channel_name(schema))
    return EnqueueStatement(
        sql=sql,
        params={f"p{n}": value for n, value in enumerate(values, start=1)},
        job_id=request.id,
    )


def push_args(request: EnqueueRequest, now: datetime, channel: str) -> tuple[Any, ...]:
    """The parameters of the ``push`` query, in order ($1..$10)."""
    return (
        request.id,
        request.name,
        request.queue,
        request.payload,
        request.priority,
        request.max_retries,
        request.run_at or now,
        now,
        request.timeout,
        channel,
    )


def _push_sql(quoted_schema: str) -> str:
    return _COMMENT_LINE.sub("", Queries(quoted_schema)["push"])
