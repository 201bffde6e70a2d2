from __future__ import annotations

import pytest

from backyard import ConfigurationError, Job, JobContext, PayloadError, UnknownJobError, registry


def test_subclass_registers_by_name() -> None:
    class Hello(Job):
        NAME = "unit.Hello"
        who: str

        async def execute(self, ctx: JobContext) -> None:
            pass

    assert registry.get("unit.Hello") is Hello
    decoded = registry.decode("unit.Hello", Hello(who="x").encode())
    assert decoded == Hello(who="x")
    registry.unregister("unit.Hello")


def test_duplicate_name_names_both_classes() -> None:
    class First(Job):
        NAME = "unit.Dup"

        async def execute(self, ctx: JobContext) -> None:
            pass

    with pytest.raises(ConfigurationError) as err:

        class Second(Job):
            NAME = "unit.Dup"

            async def execute(self, ctx: JobContext) -> None:
                pass

    message = str(err.value)
    assert "duplicate job NAME 'unit.Dup'" in message
    assert "First" in message and "Second" in message
    registry.unregister("unit.Dup")


def test_missing_name_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="has no NAME"):

        class Nameless(Job):
            async def execute(self, ctx: JobContext) -> None:
                pass


def test_abstract_base_classes_need_no_name() -> None:
    class TenantJob(Job, abstract=True):
        tenant_id: int

    class Report(TenantJob):
        NAME = "unit.Report"

        async def execute(self, ctx: JobContext) -> None:
            pass

    assert registry.get("unit.Report") is Report
    assert Report(tenant_id=3).tenant_id == 3
    registry.unregister("unit.Report")


def test_missing_execute_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="does not define execute"):

        class Lazy(Job):
            NAME = "unit.Lazy"


def test_sync_execute_is_detected() -> None:
    class Blocking(Job):
        NAME = "unit.Blocking"

        def execute(self, ctx: JobContext) -> None:  # type: ignore[override]
            pass

    assert Blocking.__backyard_is_async__ is False
    registry.unregister("unit.Blocking")


def test_unknown_name_and_bad_payload_errors_say_what_to_do() -> None:
    with pytest.raises(UnknownJobError, match="import the module that defines it"):
        registry.get("unit.NoSuchThing")

    class Typed(Job):
        NAME = "unit.Typed"
        count: int

        async def execute(self, ctx: JobContext) -> None:
            pass

    with pytest.raises(PayloadError, match="count"):
        registry.decode("unit.Typed", '{"count": "many"}')
    with pytest.raises(PayloadError):
        registry.decode("unit.Typed", "not json")
    # A field removed from the class since the job was stored is ignored.
    assert registry.decode("unit.Typed", '{"count": 1, "removed": 2}') == Typed(count=1)
    registry.unregister("unit.Typed")


def test_payload_is_json_not_pickle() -> None:
    class Data(Job):
        NAME = "unit.Data"
        items: list[int]

        async def execute(self, ctx: JobContext) -> None:
            pass

    assert Data(items=[1, 2]).encode() == '{"items":[1,2]}'
    registry.unregister("unit.Data")
