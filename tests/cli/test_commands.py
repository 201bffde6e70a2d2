"""The commands as a user runs them: real ``python -m backyard`` processes on a SQLite file."""

from __future__ import annotations

import json

import pytest

from .conftest import Backyard

pytestmark = pytest.mark.sqlite


def test_enqueue_then_inspect(backyard: Backyard) -> None:
    greet = backyard(
        "enqueue", "cli.Greet", "--json", '{"name": "Ada"}', "--import", "tests.cli.jobs"
    )
    assert greet.code == 0, greet.stderr
    greet_id = greet.stdout.strip()
    assert len(greet_id) == 36

    raw = backyard(
        "--json", "enqueue", "Raw", "--json", '{"x": 1}',
        "--queue", "mail", "--delay", "5m", "--priority", "3", "--max-retries", "1",
    )  # fmt: skip
    assert raw.code == 0, raw.stderr
    raw_job = json.loads(raw.stdout)
    assert raw_job["payload"] == {"x": 1}
    assert (raw_job["queue"], raw_job["status"], raw_job["priority"]) == ("mail", "scheduled", 3)
    assert raw_job["max_retries"] == 1

    status = backyard("status", "--json")
    assert status.code == 0, status.stderr
    report = json.loads(status.stdout)
    # --import applied the class's own options(): queue "greetings", priority 5.
    assert report["queues"]["greetings"]["available"] == 1
    assert report["queues"]["mail"]["scheduled"] == 1
    assert report["workers"] == []

    listing = backyard("jobs", "list")
    assert listing.code == 0, listing.stderr
    assert greet_id in listing.stdout and raw_job["id"] in listing.stdout
    assert "scheduled" in listing.stdout and "cli.Greet" in listing.stdout

    shown = backyard("jobs", "show", greet_id)
    assert shown.code == 0, shown.stderr
    assert '"name": "Ada"' in shown.stdout
    assert "greetings" in shown.stdout


def test_worker_dead_job_retry_cancel_delete_prune(backyard: Backyard) -> None:
    explode_id = backyard.invoke(
        "enqueue", "cli.Explode", "--json", '{"reason": "kaput"}', "--max-retries", "0"
    ).output.strip()
    greet_id = backyard.invoke(
        "enqueue", "cli.Greet", "--json", '{"name": "Bo"}', "--import", "tests.cli.jobs"
    ).output.strip()

    worker = backyard(
        "worker", "tests.cli.jobs", "--queues", "default,greetings",
        "--stop-when-empty", "--poll-interval", "0.1s",
    )  # fmt: skip
    assert worker.code == 0, worker.stderr
    assert "job classes: cli.Explode, cli.Greet" in worker.stderr
    assert f"job cli.Explode {explode_id} is dead after attempt 1" in worker.stderr

    shown = backyard("jobs", "show", explode_id)
    assert shown.code == 0, shown.stderr
    assert "RuntimeError: planned: kaput" in shown.stdout
    assert "Traceback (most recent call last)" in shown.stdout  # the job's, stored

    dead = json.loads(backyard.invoke("jobs", "list", "--status", "dead", "--json").output)
    assert [job["id"] for job in dead] == [explode_id]
    assert dead[0]["errors"][0]["message"] == "RuntimeError: planned: kaput"

    retried = backyard.invoke("jobs", "retry", explode_id)
    assert retried.exit_code == 0, retried.output
    assert "available again" in retried.output
    again = backyard.invoke("jobs", "retry", explode_id)
    assert again.exit_code == 1
    assert (
        f"job {explode_id} is available; only dead or cancelled jobs can be retried" in again.stderr
    )

    cancelled = backyard.invoke("--json", "jobs", "cancel", explode_id)
    assert cancelled.exit_code == 0
    assert json.loads(cancelled.stdout) == [
        {
            "id": explode_id,
            "action": "cancel",
            "ok": True,
            "status": "cancelled",
            "message": f"job {explode_id} (cli.Explode) cancelled",
        }
    ]
    assert backyard.invoke("jobs", "delete", explode_id).exit_code == 0

    gone = backyard("jobs", "show", explode_id)
    assert gone.code == 1
    assert gone.stderr.strip() == f"error: no job with id {explode_id}"

    nothing = backyard.invoke("jobs", "retry", "--all-dead")
    assert nothing.exit_code == 1
    assert "no dead jobs; nothing retried" in nothing.stderr

    pruned = backyard.invoke("prune", "--older-than", "0s", "--json")
    assert pruned.exit_code == 0, pruned.output
    assert json.loads(pruned.stdout)["pruned"] == 1
    assert backyard.invoke("jobs", "show", greet_id).exit_code == 1


def test_retry_all_dead_in_one_queue(backyard: Backyard) -> None:
    ids = [
        backyard.invoke(
            "enqueue", "cli.Explode", "--queue", queue, "--max-retries", "0"
        ).output.strip()
        for queue in ("a", "a", "b")
    ]
    worker = backyard("worker", "tests.cli.jobs", "-q", "a", "-q", "b", "--stop-when-empty")
    assert worker.code == 0, worker.stderr

    result = backyard.invoke("--json", "jobs", "retry", "--all-dead", "--queue", "a")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["requeued"] == 2
    statuses = [
        json.loads(backyard.invoke("jobs", "show", "--json", job_id).stdout)["status"]
        for job_id in ids
    ]
    assert statuses == ["available", "available", "dead"]


def test_payload_from_stdin(backyard: Backyard) -> None:
    result = backyard.invoke(
        "--json", "enqueue", "cli.Greet", "--json", "-", "--import", "tests.cli.jobs",
        input='{"name": "Cy", "times": 2}',
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["payload"] == {"name": "Cy", "times": 2}
