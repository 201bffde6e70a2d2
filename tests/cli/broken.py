"""A job module that fails while it is imported, as a user's module with a bug does."""

from backyard import Job, JobContext


class Broken(Job):
    NAME = "cli.Broken"

    async def execute(self, ctx: JobContext) -> None:
        pass


undefined_name  # type: ignore[name-defined]  # noqa: B018, F821 - the bug
