"""The Lua scripts: read from their .lua files once, run by SHA.

Each script is ``_common.lua`` (shared helpers) followed by its own file.
``open`` loads them all with SCRIPT LOAD; a call runs EVALSHA and, when the
server has lost its script cache (a restart, SCRIPT FLUSH, a failover),
loads the script again and retries once.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

NAMES = (
    "push",
    "push_check",
    "claim",
    "ack",
    "retry",
    "fail",
    "release",
    "heartbeat",
    "rescue",
    "cancel",
    "requeue",
    "delete",
    "prune",
    "depths",
    "register_worker",
    "wait_begin",
    "wait_end",
)


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.lua").read_text(encoding="utf-8")


class Scripts:
    def __init__(self) -> None:
        common = _read("_common")
        self.sources = {name: f"{common}\n{_read(name)}" for name in NAMES}
        self.shas = {
            name: hashlib.sha1(source.encode()).hexdigest()  # Redis names scripts by SHA-1
            for name, source in self.sources.items()
        }

    async def load(self, client: Redis) -> None:
        async with client.pipeline(transaction=False) as pipe:
            for source in self.sources.values():
                pipe.script_load(source)
            await pipe.execute()

    async def run(self, client: Redis, name: str, *args: str | int | float) -> Any:
        sha = self.shas[name]
        try:
            return await client.evalsha(sha, 0, *args)
        except NoScriptError:
            await client.script_load(self.sources[name])
            return await client.evalsha(sha, 0, *args)
