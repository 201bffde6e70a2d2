"""Imports every command module so each registers itself on ``cli``."""

from . import (
    dashboard,  # noqa: F401
    enqueue,  # noqa: F401
    jobs,  # noqa: F401
    migrate,  # noqa: F401
    prune,  # noqa: F401
    status,  # noqa: F401
    worker,  # noqa: F401
)
