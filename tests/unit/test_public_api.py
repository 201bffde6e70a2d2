"""The public surface is pinned: a change to it is a deliberate edit here."""

import backyard


def test_exported_names_are_pinned() -> None:
    assert sorted(backyard.__all__) == sorted(
        [
            "BackyardError",
            "ConfigurationError",
            "Discard",
            "EnqueueRequest",
            "Job",
            "JobContext",
            "JobError",
            "JobOptions",
            "JobRecord",
            "JobRegistry",
            "JobStatus",
            "JobTimeout",
            "PayloadError",
            "Queue",
            "RescueResult",
            "Retry",
            "RetryPolicy",
            "StatsBucket",
            "StorageError",
            "SyncQueue",
            "UnknownJobError",
            "Worker",
            "WorkerInfo",
            "__version__",
            "connect",
            "connect_sync",
            "default_url",
            "next_retry_at",
            "registry",
        ]
    )


def test_every_exported_name_exists() -> None:
    for name in backyard.__all__:
        assert hasattr(backyard, name), name
