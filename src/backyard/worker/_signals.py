"""SIGINT/SIGTERM: the first asks for a graceful stop, a second stops at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._worker import Worker

log = logging.getLogger("backyard.worker")


@contextlib.contextmanager
def handle_signals(worker: Worker, *, enabled: bool = True) -> Iterator[None]:
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if worker.stopping:
            log.warning(
                "%s again: stopping now; running jobs return when their leases expire", name
            )
            worker.abort()
        else:
            log.warning(
                "%s: finishing running jobs (up to %.0fs); send it again to stop at once",
                name,
                worker.shutdown_grace,
            )
            worker.stop()

    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        yield
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
