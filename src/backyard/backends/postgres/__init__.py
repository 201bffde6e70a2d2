"""The ``postgresql://`` backend: jobs in PostgreSQL via asyncpg.

Install with ``pip install 'backyard[postgres]'``; see docs/postgres.md.

- ``PostgresQueue``: the store ``connect("postgresql://…")`` returns.
- ``migration_sql(schema)``: the schema's SQL, for teams that apply
  migrations themselves (``backyard migrate --sql``).
- ``enqueue_statement(job)``: SQL and parameters that enqueue a job through
  any DB-API connection (psycopg, SQLAlchemy), inside its transaction.
"""

from ._enqueue_sql import EnqueueStatement, enqueue_statement
from ._migrations import latest_version, migration_sql
from ._queue import PostgresQueue

__all__ = [
    "EnqueueStatement",
    "PostgresQueue",
    "enqueue_statement",
    "latest_version",
    "migration_sql",
]
