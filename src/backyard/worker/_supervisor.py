"""Several worker processes under one supervisor: ``backyard worker --processes N``.

The supervisor starts N child processes, each an ordinary single-process
``backyard worker``, and keeps them running:

- the first SIGINT or SIGTERM asks every child to finish its running jobs,
  a second one tells them to stop at once, a third kills them (SIGKILL);
- a child that dies without being asked to is restarted after a delay that
  doubles with each quick failure (1 s, 2 s, 4 s … 30 s) and starts over
  once a child has stayed up for a while, with a log line saying how it
  ended (exit code or signal);
- the supervisor returns once every child has exited after a stop.

Why children are subprocesses re-running the command line, not
``multiprocessing`` processes: each child is then exactly the process
``--processes 1`` runs (same imports, logging, start-up checks and signal
handling), nothing is pickled across, and there is no second code path to
keep correct. ``fork`` would copy the supervisor's threads and open
handles into every child; ``spawn`` re-imports the parent's ``__main__``
and brings multiprocessing's own machinery (pipes, resource tracker) that
a worker does not need. A child re-running ``python -m backyard worker``
costs the same start-up as ``spawn``.

Signals: children run in their own process group, so a Ctrl-C in the
terminal reaches only the supervisor, which passes on exactly one signal
per request. (Otherwise every child would get the terminal's SIGINT *and*
the forwarded one, and treat the first Ctrl-C as the second: stop at once.)
What is passed on is always SIGTERM: a child that is still importing has
not installed its handlers yet, and SIGTERM simply ends it (it holds no
jobs yet), where SIGINT would raise KeyboardInterrupt mid-import. Because a
separate process group also shields children from a supervisor that dies
without a word (``kill -9``), each child watches its parent
(``watch_supervisor``) and stops gracefully when it is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._worker import Worker

# Tells a child which slot it fills (1..N), e.g. to pick its metrics port.
SLOT_ENV = "BACKYARD_WORKER_SLOT"

log = logging.getLogger("backyard.supervisor")

#: Exit codes that mean a child stopped the way it was asked to.
CLEAN_EXITS = frozenset({0, -signal.SIGTERM})


@dataclass(slots=True)
class _Child:
    slot: int
    process: asyncio.subprocess.Process
    started: float  # event-loop time


class Supervisor:
    """Runs ``processes`` copies of ``command`` and restarts any that die.

    Arguments:
        command: the child's argv, e.g. ``[sys.executable, "-m", "backyard",
            "worker", "app.jobs", "--processes", "1", …]``.
        processes: how many children to keep running.
        env: the children's environment (default: the supervisor's).
        restart_clean_exit: whether a child that exits with code 0 on its
            own is started again. False for ``--stop-when-empty``, where
            exit 0 means "no work left".
        restart_delay, max_restart_delay: the first and the longest wait
            before restarting a child that died; the wait doubles between.
        stable_after: a child that ran this long before dying counts as a
            fresh failure, so the wait starts over at ``restart_delay``.
    """

    def __init__(
        self,
        command: Sequence[str],
        processes: int,
        *,
        env: Mapping[str, str] | None = None,
        restart_clean_exit: bool = True,
        restart_delay: float = 1.0,
        max_restart_delay: float = 30.0,
        stable_after: float = 30.0,
    ) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, got {processes}")
        self.command = list(command)
        self.processes = processes
        self.env = dict(env) if env is not None else None
        self.restart_clean_exit = restart_clean_exit
        self.restart_delay = restart_delay
        self.max_restart_delay = max_restart_delay
        self.stable_after = stable_after
        self._children: dict[int, _Child] = {}
        self._stops = 0
        self._stopping = asyncio.Event()

    @property
    def pids(self) -> list[int]:
        """Process ids of the children running now."""
        return [child.process.pid for child in self._children.values()]

    async def run(self) -> int:
        """Supervise until stopped; returns 0 if every child stopped cleanly, else 1."""
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for signum in signals:
            loop.add_signal_handler(signum, self._on_signal, signum)
        log.info("supervisor (pid %d) starting %d worker processes", os.getpid(), self.processes)
        try:
            codes = await asyncio.gather(
                *(self._keep_running(slot) for slot in range(1, self.processes + 1))
            )
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
            self._signal_children(signal.SIGKILL)  # only if run() itself was cancelled
        unclean = [code for code in codes if code not in CLEAN_EXITS]
        log.info(
            "supervisor stopped: %d of %d worker processes exited cleanly",
            len(codes) - len(unclean),
            len(codes),
        )
        return 1 if unclean else 0

    def stop(self) -> None:
        """Ask every child to finish its running jobs and exit (like one SIGTERM)."""
        self._on_signal(signal.SIGTERM)

    # -- signals --------------------------------------------------------------

    def _on_signal(self, signum: int) -> None:
        self._stops += 1
        name = signal.Signals(signum).name
        if self._stops == 1:
            log.warning(
                "%s: asking %d worker process(es) to finish their running jobs; "
                "send it again to stop them at once",
                name,
                len(self._children),
            )
            self._stopping.set()
            self._signal_children(signal.SIGTERM)
        elif self._stops == 2:
            log.warning(
                "%s again: telling worker processes to stop at once; a third time kills them",
                name,
            )
            self._signal_children(signal.SIGTERM)
        else:
            log.warning("%s a third time: killing worker processes", name)
            self._signal_children(signal.SIGKILL)

    def _signal_children(self, signum: int) -> None:
        for child in list(self._children.values()):
            if child.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signum)

    # -- children -------------------------------------------------------------

    async def _keep_running(self, slot: int) -> int:
        """Run slot ``slot``'s child until a stop; returns its last exit code."""
        loop = asyncio.get_running_loop()
        delay = self.restart_delay
        while True:
            child = await self._start(slot)
            if child is not None:
                code = await child.process.wait()
                self._children.pop(slot, None)
                pid, lived = child.process.pid, loop.time() - child.started
                if self._stopping.is_set():
                    log.info("worker process %d (pid %d) %s", slot, pid, describe_exit(code))
                    return code
                if code == 0 and not self.restart_clean_exit:
                    log.info("worker process %d (pid %d) finished: no work left", slot, pid)
                    return 0
                if lived >= self.stable_after:
                    delay = self.restart_delay
                log.warning(
                    "worker process %d (pid %d) %s after %.1fs without being asked to stop; "
                    "restarting it in %.0fs",
                    slot,
                    pid,
                    describe_exit(code),
                    lived,
                    delay,
                )
            elif self._stopping.is_set():
                return 0
            else:
                log.warning("trying worker process %d again in %.0fs", slot, delay)
            if await self._stopped_within(delay):
                return 0  # the crash is logged; nothing is left running in this slot
            delay = min(self.max_restart_delay, delay * 2)

    async def _start(self, slot: int) -> _Child | None:
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command,
                env={**(self.env or os.environ), SLOT_ENV: str(slot)},
                stdin=asyncio.subprocess.DEVNULL,
                process_group=0,  # see the module docstring: signals come from us only
            )
        except OSError as exc:
            log.error("could not start worker process %d: %s", slot, exc)
            return None
        child = _Child(slot, process, asyncio.get_running_loop().time())
        self._children[slot] = child
        log.info("worker process %d started (pid %d)", slot, process.pid)
        if self._stopping.is_set():
            # A stop arrived while this child was being started: pass it on now.
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL if self._stops >= 3 else signal.SIGTERM)
        return child

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()


def describe_exit(code: int) -> str:
    """``"exited with code 1"`` or ``"was killed by SIGKILL"``."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


async def watch_supervisor(worker: Worker, supervisor_pid: int, interval: float = 1.0) -> None:
    """Stop ``worker`` gracefully once the supervisor that started this process is gone.

    When the parent dies the child is re-parented, so ``os.getppid()``
    changes; that works wherever the parent's death is not announced.
    """
    while not worker.stopping:
        if os.getppid() != supervisor_pid:
            log.warning(
                "supervisor (pid %d) is gone; finishing running jobs and stopping", supervisor_pid
            )
            worker.stop()
            return
        await asyncio.sleep(interval)
