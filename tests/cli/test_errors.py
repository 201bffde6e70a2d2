"""Every kind of bad input ends in one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import pytest

from .conftest import Backyard

pytestmark = pytest.mark.sqlite

USAGE = 2  # click's code for a usage error: bad option value, missing argument
FAILED = 1  # the command could not do what was asked


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(
            ["--url", "foo", "status"],
            FAILED,
            "error: unsupported storage URL 'foo': the scheme must be one of memory://, sqlite://",
            id="url-without-scheme",
        ),
        pytest.param(
            ["--url", "mysql://localhost/jobs", "status"],
            FAILED,
            "error: unsupported storage URL 'mysql://localhost/jobs'",
            id="unknown-scheme",
        ),
        pytest.param(
            ["--url", "sqlite://host/jobs.db", "status"],
            FAILED,
            "error: malformed sqlite URL 'sqlite://host/jobs.db': use three slashes",
            id="malformed-url",
        ),
        pytest.param(
            ["--url", "sqlite:////nonexistent/folder/jobs.db", "jobs", "list"],
            FAILED,
            "error: cannot open SQLite database /nonexistent/folder/jobs.db: folder "
            "/nonexistent/folder does not exist",
            id="unreachable-db",
        ),
        pytest.param(
            ["enqueue", "SendEmail", "--json", '{"to": '],
            USAGE,
            "error: Invalid value for '--json': not valid JSON (Expecting value: line 1 "
            "column 8 (char 7)) (see 'backyard enqueue --help')",
            id="bad-json",
        ),
        pytest.param(
            ["enqueue", "SendEmail", "--json", "[1, 2]"],
            USAGE,
            "error: Invalid value for '--json': the payload must be a JSON object like "
            """'{"to": "a@example.com"}', got an array""",
            id="json-not-an-object",
        ),
        pytest.param(
            ["prune", "--older-than", "7 days"],
            USAGE,
            "error: Invalid value for '--older-than': '7 days' is not a duration: use a number "
            "and a unit (ms, s, m, h, d, w), like 30s, 15m, 12h, 7d or 1h30m",
            id="bad-duration",
        ),
        pytest.param(
            ["enqueue", "SendEmail", "--delay", "-5m"],
            USAGE,
            "'-5m' is not a duration",
            id="negative-duration",
        ),
        pytest.param(
            ["worker", "tests.cli.jobs", "--lease", "0s"],
            USAGE,
            "error: Invalid value for '--lease': '0s' must be longer than zero",
            id="zero-lease",
        ),
        pytest.param(
            ["prune"],
            USAGE,
            "error: Missing option '--older-than'. (see 'backyard prune --help')",
            id="missing-option",
        ),
        pytest.param(
            ["jobs", "show", "0190f6c2-5d0e-7a3b-9c1e-4f2a8b6d3e10"],
            FAILED,
            "error: no job with id 0190f6c2-5d0e-7a3b-9c1e-4f2a8b6d3e10",
            id="unknown-id",
        ),
        pytest.param(
            ["jobs", "cancel", "nope"], FAILED, "error: no job with id nope", id="cancel-unknown"
        ),
        pytest.param(
            ["jobs", "delete", "nope"], FAILED, "error: no job with id nope", id="delete-unknown"
        ),
        pytest.param(
            ["jobs", "retry"],
            USAGE,
            "error: give job ids or --all-dead, not both and not neither",
            id="retry-nothing",
        ),
        pytest.param(
            ["jobs", "list", "--status", "lost"],
            USAGE,
            "error: Invalid value for '-s' / '--status': 'lost' is not one of 'scheduled'",
            id="unknown-status",
        ),
        pytest.param(
            ["enqueue", "SendEmail", "--import", "no_such_module"],
            FAILED,
            "error: cannot import job module 'no_such_module': no module named "
            "'no_such_module' (run from the folder that contains it, or set PYTHONPATH)",
            id="module-missing",
        ),
        pytest.param(
            ["enqueue", "cli.Broken", "--import", "tests.cli.broken"],
            FAILED,
            "error: cannot import job module 'tests.cli.broken': NameError: name "
            "'undefined_name' is not defined (",
            id="module-raises",
        ),
        pytest.param(
            ["enqueue", "cli.Greet", "--json", '{"times": "x"}', "--import", "tests.cli.jobs"],
            FAILED,
            "error: payload does not match tests.cli.jobs.Greet: name: Field required; times: "
            "Input should be a valid integer, unable to parse string as an integer",
            id="payload-invalid",
        ),
        pytest.param(
            ["enqueue", "cli.Nope", "--import", "tests.cli.jobs"],
            FAILED,
            "error: no job class is registered with NAME 'cli.Nope' (known: ",
            id="unknown-job-name",
        ),
    ],
)
def test_bad_input_is_one_line(
    backyard: Backyard, args: list[str], code: int, message: str
) -> None:
    result = backyard.invoke(*args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_real_process_errors_have_no_traceback(backyard: Backyard) -> None:
    # The same paths as above, through a real interpreter: nothing escapes as a traceback.
    for args, message in [
        (["worker", "no_such_module"], "error: cannot import job module 'no_such_module'"),
        (
            ["worker", "json"],
            "error: no job classes were registered by importing json: is that the module "
            "that defines your Job subclasses?",
        ),
        (["--url", "redis//nope", "jobs", "list"], "error: unsupported storage URL"),
        (["prune", "--older-than", "yesterday"], "'yesterday' is not a duration"),
    ]:
        run = backyard(*args)
        assert run.code != 0
        assert message in run.stderr
        assert "Traceback" not in run.stderr + run.stdout
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_json_output_is_the_same_from_either_flag(backyard: Backyard) -> None:
    before = backyard.invoke("--json", "status")
    after = backyard.invoke("status", "--json")
    assert before.exit_code == after.exit_code == 0
    assert before.stdout == after.stdout == '{\n  "queues": {},\n  "workers": []\n}\n'
