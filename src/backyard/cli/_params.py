"""Option types the commands share: durations, JSON payloads, queue lists.

Every duration the command line accepts (``--delay``, ``--lease``,
``--older-than``…) goes through ``parse_duration``, so they all take the
same spellings and reject garbage with the same message.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    # click 8.5 made ParamType generic; older releases (which we support) cannot
    # be subscripted at run time.
    _DurationBase = click.ParamType[timedelta | None, Any]
    _JsonBase = click.ParamType[dict[str, Any], Any]
else:
    _DurationBase = _JsonBase = click.ParamType

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"({_NUMBER})(ms|s|m|h|d|w)")
_DURATION = re.compile(rf"(?:{_NUMBER}(?:ms|s|m|h|d|w))+")
_BARE = re.compile(_NUMBER)

DURATION_EXAMPLES = "30s, 15m, 12h, 7d or 1h30m"


def parse_duration(text: str) -> timedelta:
    """``"30s"``, ``"15m"``, ``"12h"``, ``"7d"``, ``"2w"``, ``"500ms"``, ``"1h30m"``.

    A bare number is seconds. Raises ``ValueError`` with a message fit for
    a person on anything else (negative, empty, unknown unit, ``"7 days"``).
    """
    raw = text.strip().lower()
    if _BARE.fullmatch(raw):
        return timedelta(seconds=float(raw))
    if not _DURATION.fullmatch(raw):
        raise ValueError(
            f"{text!r} is not a duration: use a number and a unit (ms, s, m, h, d, w), "
            f"like {DURATION_EXAMPLES}"
        )
    seconds = sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(raw))
    return timedelta(seconds=seconds)


class Duration(_DurationBase):
    """A click option type built on ``parse_duration``; converts to a ``timedelta``.

    ``positive``: zero is rejected (a zero lease or poll interval makes no
    sense). ``never``: the word ``never`` is accepted and becomes ``None``.
    """

    name = "duration"

    def __init__(self, *, positive: bool = True, never: bool = False) -> None:
        self.positive = positive
        self.never = never

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "DURATION|never" if self.never else "DURATION"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta | None:
        if value is None or isinstance(value, timedelta):
            return value
        text = str(value)
        if self.never and text.strip().lower() == "never":
            return None
        try:
            duration = parse_duration(text)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if self.positive and duration <= timedelta(0):
            self.fail(f"{text!r} must be longer than zero", param, ctx)
        return duration


class JsonObject(_JsonBase):
    """A JSON object given inline, or ``-`` to read it from standard input."""

    name = "json"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "'{…}'|-"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        text = sys.stdin.read() if value == "-" else str(value)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self.fail(f"not valid JSON ({exc})", param, ctx)
        if not isinstance(data, dict):
            kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
            self.fail(
                f'the payload must be a JSON object like \'{{"to": "a@example.com"}}\', '
                f"got {kind.get(type(data), 'a number')}",
                param,
                ctx,
            )
        return data


def split_queues(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    """``-q default,mail -q reports`` -> ``("default", "mail", "reports")``, order kept."""
    names = [name.strip() for value in values for name in value.split(",")]
    queues = tuple(dict.fromkeys(name for name in names if name))
    if not queues:
        raise click.BadParameter("give at least one queue name, like default,mail", ctx, param)
    return queues
