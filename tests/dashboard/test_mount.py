"""The dashboard inside another ASGI app, and its store's life cycle."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from backyard import JobStatus, Queue, connect
from backyard.dashboard import Dashboard, create_app

from .conftest import Browser, Jobs, client_for, fill


def host_app(dashboard: Starlette) -> Starlette:
    async def home(request: object) -> PlainTextResponse:
        return PlainTextResponse("the host app")

    return Starlette(routes=[Route("/", home), Mount("/admin/jobs", dashboard)])


async def test_mounted_links_actions_and_cookies_stay_under_the_prefix(
    live_store: Queue, jobs: Jobs
) -> None:
    async with client_for(host_app(create_app(live_store))) as client:
        browser = Browser(client, prefix="/admin/jobs")
        assert (await client.get("/")).text == "the host app"

        response = await browser.get("/")
        assert response.status_code == 200
        links = set(re.findall(r'(?:href|src|action)="(/[^"]*)"', response.text))
        assert links, "no links found"
        assert all(link.startswith("/admin/jobs/") for link in links), links
        assert "/admin/jobs/dead" in links and "/admin/jobs/static/dashboard.css" in links
        assert (await client.get("/admin/jobs/static/dashboard.css")).status_code == 200
        assert "path=/admin/jobs;" in response.headers["set-cookie"].lower()

        detail = (await browser.get(f"/jobs/{jobs.dead.id}")).text
        assert f'action="/admin/jobs/jobs/{jobs.dead.id}/retry"' in detail
        response = await browser.post(f"/jobs/{jobs.dead.id}/retry", {"next": "/admin/jobs/dead"})
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/jobs/dead"
        record = await live_store.get(jobs.dead.id)
        assert record is not None and record.status is JobStatus.AVAILABLE

        # `next` must stay inside the mount: the host app's pages are not a target
        response = await browser.post(f"/jobs/{jobs.scheduled}/cancel", {"next": "/"})
        assert response.headers["location"] == "/admin/jobs/"


async def test_given_a_url_the_app_opens_the_store_in_its_lifespan(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lifespan.db'}"
    async with connect(url) as store:
        jobs = await fill(store)
    app = create_app(url)
    dashboard: Dashboard = app.state.dashboard
    # What a server does at startup and shutdown (and what a host app's own
    # lifespan can do for a mounted dashboard, as docs/dashboard.md shows).
    async with app.router.lifespan_context(app):
        assert dashboard._opened
        async with client_for(app) as client:
            assert jobs.dead.id in (await client.get("/dead")).text
    assert not dashboard._opened


async def test_mounted_with_a_url_it_opens_the_store_at_first_use(tmp_path: Path) -> None:
    # Starlette and FastAPI never run a mounted app's lifespan.
    url = f"sqlite:///{tmp_path / 'mounted.db'}"
    async with connect(url) as store:
        jobs = await fill(store)
    dashboard_app = create_app(url)
    dashboard: Dashboard = dashboard_app.state.dashboard
    try:
        async with client_for(host_app(dashboard_app)) as client:
            html = (await client.get("/admin/jobs/dead")).text
            assert jobs.dead.id in html
    finally:
        await dashboard.close()
