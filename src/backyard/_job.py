"""The ``Job`` base class and the registry that maps each ``NAME`` to its class."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ._errors import ConfigurationError, PayloadError, UnknownJobError
from ._options import JobOptions
from ._retry import DEFAULT_RETRY_POLICY, RetryPolicy

if TYPE_CHECKING:
    from ._context import JobContext


class Job(BaseModel):
    """A unit of background work: a typed payload plus the code that runs it.

    Subclass it, give it a stable ``NAME`` and an ``execute`` method. The
    fields are a pydantic model: validated when the job is created and again
    when a worker decodes it. The payload travels as JSON, never pickle.

    ::

        class SendEmail(Job):
            NAME = "SendEmail"
            to: str
            subject: str

            async def execute(self, ctx: JobContext) -> None:
                ...

    ``execute`` may also be a plain ``def``; it then runs in a thread pool so
    it cannot block the worker's event loop.

    A base class that is not itself a job declares ``abstract=True``::

        class TenantJob(Job, abstract=True):
            tenant_id: int
    """

    # Unknown fields in a stored payload are ignored, so removing a field from
    # a job class does not send the jobs already queued to dead.
    model_config = ConfigDict(extra="ignore")

    NAME: ClassVar[str]
    """The stable wire name, unique in the application. Renaming it orphans stored jobs."""

    RETRY: ClassVar[RetryPolicy] = DEFAULT_RETRY_POLICY
    """When a failed attempt runs again. Override per job type."""

    __backyard_abstract__: ClassVar[bool] = True
    __backyard_is_async__: ClassVar[bool] = True

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        # `abstract` is ours; it reaches __pydantic_init_subclass__ below too.
        super().__init_subclass__(**kwargs)

    @classmethod
    def __pydantic_init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.__backyard_abstract__ = abstract
        if abstract:
            return
        if "NAME" not in cls.__dict__:
            raise ConfigurationError(
                f"job class {_qualified(cls)} has no NAME: give it a stable wire name "
                f'(NAME = "{cls.__name__}"), or declare it '
                f"`class {cls.__name__}(..., abstract=True)` if it is a base class"
            )
        if not isinstance(cls.NAME, str) or not cls.NAME.strip():
            raise ConfigurationError(
                f"job class {_qualified(cls)} has NAME {cls.NAME!r}: it must be a non-empty string"
            )
        if cls.execute is Job.execute:
            raise ConfigurationError(
                f"job class {_qualified(cls)} does not define execute(self, ctx)"
            )
        cls.__backyard_is_async__ = inspect.iscoroutinefunction(cls.execute)
        registry.register(cls)

    @classmethod
    def options(cls) -> JobOptions:
        """Default enqueue options for this job type; override to change them."""
        return JobOptions()

    async def execute(self, ctx: JobContext) -> None:
        """Run the job. Raise to fail the attempt (it will be retried)."""
        raise NotImplementedError

    def encode(self) -> str:
        """The JSON payload stored for this job."""
        return self.model_dump_json()


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class JobRegistry:
    """Maps each job ``NAME`` to its class: the dispatch table workers use."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Job]] = {}

    def register(self, cls: type[Job]) -> None:
        existing = self._classes.get(cls.NAME)
        # The same class defined again (a module reloaded) replaces itself quietly.
        if existing is not None and _qualified(existing) != _qualified(cls):
            raise ConfigurationError(
                f"duplicate job NAME {cls.NAME!r}: both {_qualified(existing)} and "
                f"{_qualified(cls)} use it; each job class needs its own NAME"
            )
        self._classes[cls.NAME] = cls

    def unregister(self, name: str) -> None:
        self._classes.pop(name, None)

    def get(self, name: str) -> type[Job]:
        try:
            return self._classes[name]
        except KeyError:
            raise UnknownJobError(
                f"no job class is registered with NAME {name!r}: import the module that "
                "defines it in the worker (backyard worker <module>), or delete the job"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def names(self) -> list[str]:
        return sorted(self._classes)

    def decode(self, name: str, payload: str) -> Job:
        """Rebuild a job from its stored NAME and payload, validating it again."""
        cls = self.get(name)
        try:
            return cls.model_validate_json(payload)
        except ValidationError as exc:
            raise PayloadError(
                f"payload of job {name!r} does not match {_qualified(cls)}: {_summarize(exc)}"
            ) from exc


def _summarize(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "payload"
        parts.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


registry = JobRegistry()
"""The application-wide registry; every non-abstract ``Job`` subclass lands here."""
