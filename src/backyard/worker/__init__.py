"""Workers: claim jobs, run them, retry or bury them, and keep leases alive."""

from ._hooks import LogHook, WorkerHook
from ._outcome import Outcome, Verdict
from ._worker import Worker, WorkerCounters

__all__ = ["LogHook", "Outcome", "Verdict", "Worker", "WorkerCounters", "WorkerHook"]
