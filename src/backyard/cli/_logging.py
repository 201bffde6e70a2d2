"""Logging for ``backyard worker``: stdlib logging, one line per record.

``text`` is for people: time, level, process id (several worker processes
share one terminal) and logger. ``json`` is one object per line for log
shippers, carrying the job fields the worker attaches to its records
(``job_id``, ``job_name``, ``queue``, ``attempt``, ``worker_id``,
``outcome``, ``duration``).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s [%(process)d] %(name)s: %(message)s"

# Attributes the worker's LogHook and JobLogger put on records.
JOB_FIELDS = ("job_id", "job_name", "queue", "attempt", "worker_id", "outcome", "duration")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the job fields when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for name in JOB_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                data[name] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    """Send every record at ``level`` or above to stderr, replacing earlier handlers."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
