"""Imports every command module so each registers itself on ``cli``."""

from . import dashboard  # noqa: F401
