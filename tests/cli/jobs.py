"""Job classes the command-line tests import (``--import tests.cli.jobs``)."""

from __future__ import annotations

from backyard import Job, JobContext, JobOptions


class Greet(Job):
    NAME = "cli.Greet"
    name: str
    times: int = 1

    @classmethod
    def options(cls) -> JobOptions:
        return JobOptions(queue="greetings", priority=5)

    async def execute(self, ctx: JobContext) -> None:
        ctx.log.info("hello %s", self.name)


class Explode(Job):
    NAME = "cli.Explode"
    reason: str = "boom"

    async def execute(self, ctx: JobContext) -> None:
        raise RuntimeError(f"planned: {self.reason}")
