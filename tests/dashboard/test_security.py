"""Escaping, CSRF, authentication, read-only mode and response headers."""

from __future__ import annotations

import base64
import json

import pytest

from backyard import JobStatus, Queue
from backyard.dashboard import create_app

from .conftest import Browser, Jobs, client_for, push, run_to

SCRIPT = "<script>alert('payload')</script>"
IMAGE = "<img src=x onerror=alert('error')>"


async def test_payloads_and_errors_render_as_text(browser: Browser, live_store: Queue) -> None:
    queue = "<i>queue</i>"
    dead = await run_to(
        live_store,
        JobStatus.DEAD,
        name="<b>EvilJob</b>",
        payload=json.dumps({"html": SCRIPT, "nested": {"also": IMAGE}}),
        queue=queue,
        message=f"failed on {IMAGE} and {SCRIPT}",
    )
    await push(live_store, "<b>EvilJob</b>", json.dumps({"x": SCRIPT}), queue=queue)
    pages = ["/", "/jobs", f"/jobs?queue={queue}", f"/jobs/{dead.id}", "/dead", "/scheduled"]
    for page in pages:
        html = (await browser.get(page)).text
        for raw in (SCRIPT, IMAGE, "<b>EvilJob</b>", "<i>queue</i>", "<script>alert"):
            assert raw not in html, (page, raw)
    detail = (await browser.get(f"/jobs/{dead.id}")).text
    assert "&lt;script&gt;alert(&#39;payload&#39;)&lt;/script&gt;" in detail  # shown, as text
    assert "&lt;img src=x onerror=alert(&#39;error&#39;)&gt;" in detail
    assert "&lt;b&gt;EvilJob&lt;/b&gt;" in detail


async def test_a_payload_that_is_not_json_is_shown_as_stored(
    browser: Browser, live_store: Queue
) -> None:
    job_id = await push(live_store, payload=f"not json {SCRIPT}")
    html = (await browser.get(f"/jobs/{job_id}")).text
    assert "not json &lt;script&gt;" in html and SCRIPT not in html


async def test_a_job_id_from_the_url_is_escaped_in_the_notice(browser: Browser) -> None:
    response = await browser.post(f"/jobs/{IMAGE}/retry", {"next": "/workers"})
    assert response.status_code == 303
    html = (await browser.get("/workers")).text
    assert "no longer exists" in html and IMAGE not in html


async def test_an_action_without_the_csrf_token_is_refused(
    browser: Browser, live_store: Queue, jobs: Jobs
) -> None:
    await browser.token()  # the browser has the cookie, as a victim's browser would
    no_field = await browser.post(f"/jobs/{jobs.dead.id}/retry", token=False)
    assert no_field.status_code == 403
    forged = await browser.post(f"/jobs/{jobs.dead.id}/delete", {"csrf_token": "abc.def"})
    assert forged.status_code == 403
    assert "security token" in forged.text
    record = await live_store.get(jobs.dead.id)
    assert record is not None and record.status is JobStatus.DEAD


async def test_a_token_is_only_good_with_its_own_cookie(live_store: Queue, jobs: Jobs) -> None:
    app = create_app(live_store)
    async with client_for(app) as alice, client_for(app) as mallory:
        mallorys = await Browser(mallory).token()
        await Browser(alice).token()  # alice has a cookie of her own
        response = await alice.post(f"/jobs/{jobs.dead.id}/retry", data={"csrf_token": mallorys})
        assert response.status_code == 403
        # and a signed token from one dashboard is worthless to another (other secret)
        other = create_app(live_store)
        async with client_for(other) as bob:
            bob.cookies.set("backyard_csrf", mallorys)
            response = await bob.post(f"/jobs/{jobs.dead.id}/retry", data={"csrf_token": mallorys})
            assert response.status_code == 403


async def test_the_csrf_cookie_is_strict_and_http_only(browser: Browser) -> None:
    response = await browser.get("/")
    cookie = response.headers["set-cookie"].lower()
    assert "backyard_csrf=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "path=/" in cookie


def basic(user: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


async def test_with_a_token_every_path_requires_it(live_store: Queue) -> None:
    app = create_app(live_store, auth_token="s3cret-token")
    async with client_for(app) as client:
        for path in ("/", "/jobs", "/dead", "/metrics", "/static/dashboard.css"):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"].startswith("Basic ")
        assert (await client.get("/", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (
            await client.get("/", headers={"Authorization": "Bearer s3cret-token"})
        ).status_code == 200
        # a browser's login prompt: any user name, the token as password
        assert (await client.get("/", headers=basic("anyone", "s3cret-token"))).status_code == 200
        assert (await client.get("/metrics", headers=basic("anyone", "wrong"))).status_code == 401
        assert (await client.get("/", headers={"Authorization": "Basic !!!"})).status_code == 401


async def test_basic_auth_user_and_password(live_store: Queue, jobs: Jobs) -> None:
    app = create_app(live_store, basic_auth=("ops", "hunter2"))
    async with client_for(app) as client:
        assert (await client.get("/")).status_code == 401
        assert (await client.get("/", headers=basic("ops", "wrong"))).status_code == 401
        assert (await client.get("/", headers=basic("dev", "hunter2"))).status_code == 401
        client.headers.update(basic("ops", "hunter2"))
        browser = Browser(client)
        assert (await browser.get("/")).status_code == 200
        response = await browser.post(f"/jobs/{jobs.dead.id}/retry", {"next": "/dead"})
        assert response.status_code == 303


async def test_read_only_hides_actions_and_refuses_them(live_store: Queue, jobs: Jobs) -> None:
    async with client_for(create_app(live_store, read_only=True)) as client:
        browser = Browser(client)
        for page in (
            "/",
            "/jobs",
            f"/jobs/{jobs.dead.id}",
            f"/jobs/{jobs.scheduled}",
            "/dead",
            "/scheduled",
        ):
            html = (await browser.get(page)).text
            assert "<form" not in html and "<button" not in html, page
        assert "read-only" in (await browser.get("/")).text
        for action in (
            f"/jobs/{jobs.dead.id}/retry",
            f"/jobs/{jobs.dead.id}/delete",
            f"/jobs/{jobs.scheduled}/cancel",
            "/dead/retry",
            "/dead/delete",
        ):
            response = await browser.post(action)  # with a valid token, still refused
            assert response.status_code == 403, action
            assert "read-only" in response.text
    assert (await live_store.get(jobs.dead.id)) is not None
    record = await live_store.get(jobs.scheduled)
    assert record is not None and record.status is JobStatus.SCHEDULED


async def test_hardening_headers(browser: Browser) -> None:
    response = await browser.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_create_app_checks_its_arguments() -> None:
    from backyard import ConfigurationError

    with pytest.raises(ConfigurationError):
        create_app("nosuch://x")
    with pytest.raises(ValueError):
        create_app("memory://", page_size=0)
