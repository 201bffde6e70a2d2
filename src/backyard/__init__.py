"""backyard: background jobs for asyncio Python.

Define jobs as typed classes, enqueue them from anywhere, and run workers
that retry failures and keep the ones that keep failing for a person to see.
"""

import logging

from ._connect import connect, default_url
from ._context import JobContext
from ._errors import (
    BackyardError,
    ConfigurationError,
    Discard,
    JobTimeout,
    PayloadError,
    Retry,
    StorageError,
    UnknownJobError,
)
from ._job import Job, JobRegistry, registry
from ._options import JobOptions
from ._queue import Queue
from ._records import (
    EnqueueRequest,
    JobError,
    JobRecord,
    JobStatus,
    RescueResult,
    StatsBucket,
    WorkerInfo,
)
from ._retry import RetryPolicy, next_retry_at
from ._sync import SyncQueue, connect_sync
from .worker import Worker

__version__ = "0.1.0"

# A library logs but does not decide where logs go: the application (or the
# `backyard` command) configures handlers.
logging.getLogger("backyard").addHandler(logging.NullHandler())

__all__ = [
    "BackyardError",
    "ConfigurationError",
    "Discard",
    "EnqueueRequest",
    "Job",
    "JobContext",
    "JobError",
    "JobOptions",
    "JobRecord",
    "JobRegistry",
    "JobStatus",
    "JobTimeout",
    "PayloadError",
    "Queue",
    "RescueResult",
    "Retry",
    "RetryPolicy",
    "StatsBucket",
    "StorageError",
    "SyncQueue",
    "UnknownJobError",
    "Worker",
    "WorkerInfo",
    "__version__",
    "connect",
    "connect_sync",
    "default_url",
    "next_retry_at",
    "registry",
]
