"""asyncpg's exceptions, turned into backyard's with a message a person can act on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from ..._errors import ConfigurationError, StorageError

# Failures of the connection rather than of the statement: worth retrying
# once the database is back (the worker does, with backoff).
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
    asyncpg.InterfaceError,
)

TRANSIENT_CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.exceptions.CannotConnectNowError,  # starting up or shutting down
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.PostgresConnectionError,
)


def connect_error(exc: BaseException, endpoints: str, database: str, timeout: float) -> Exception:
    """The error ``open()`` raises when it cannot connect, saying what to do."""
    where = f"PostgreSQL at {endpoints}"
    if isinstance(exc, asyncpg.exceptions.ClientConfigurationError):
        return ConfigurationError(f"bad PostgreSQL connection settings: {exc}")
    if isinstance(exc, asyncpg.exceptions.InvalidCatalogNameError):
        return StorageError(
            f"{where} has no database {database!r}: create it (createdb {database}) "
            "or fix the database name in the URL"
        )
    if isinstance(
        exc,
        asyncpg.exceptions.InvalidPasswordError
        | asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    ):
        return StorageError(
            f"{where} refused the login: {exc}. Check the user and password in the URL"
        )
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return StorageError(
            f"{where} did not answer within {timeout:g}s. Is the host right and reachable? "
            "(raise connect_timeout for a slow network)"
        )
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return StorageError(
            f"cannot connect to {where}: {reason}. Is the server running and accepting TCP "
            "connections there? Check the host and port in the URL, or start the server "
            "(add ?connect_retries=N to the URL to wait for a database that is still starting)"
        )
    if isinstance(exc, asyncpg.PostgresError):
        return StorageError(f"{where} refused the connection: {type(exc).__name__}: {exc}")
    return StorageError(f"cannot connect to {where}: {type(exc).__name__}: {exc}")


@contextmanager
def translated(action: str, endpoints: str) -> Iterator[None]:
    """Re-raise driver errors inside the block as ``StorageError``."""
    try:
        yield
    except StorageError:
        raise
    except asyncpg.exceptions.ClientConfigurationError as exc:
        raise ConfigurationError(f"bad PostgreSQL connection settings: {exc}") from exc
    except _CONNECTION_ERRORS as exc:
        detail = str(exc) or type(exc).__name__
        raise StorageError(
            f"lost the connection to PostgreSQL at {endpoints} while trying to {action}: "
            f"{detail} (it is retried once the database answers again)"
        ) from exc
    except asyncpg.PostgresError as exc:
        raise StorageError(f"PostgreSQL could not {action}: {type(exc).__name__}: {exc}") from exc
