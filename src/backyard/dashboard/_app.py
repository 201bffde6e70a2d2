"""``create_app``: the dashboard as an ASGI application, standalone or mounted."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from .._connect import connect
from .._errors import BackyardError
from .._queue import Queue
from .._records import JobStatus
from . import _actions, _format, _pages
from ._security import Csrf, RequireAuth, SecurityHeaders, Signer

log = logging.getLogger("backyard.dashboard")

SECRET_ENV = "BACKYARD_DASHBOARD_SECRET"
NOTICE_COOKIE = "backyard_notice"
LIVE_HEADER = "x-backyard-live"


class Dashboard:
    """What every request handler shares: the store, templates, CSRF and settings.

    Reached from a handler as ``request.app.state.dashboard``.
    """

    def __init__(
        self,
        store_or_url: Queue | str,
        *,
        read_only: bool,
        page_size: int,
        refresh_seconds: float,
        secret: bytes,
        title: str,
    ) -> None:
        if isinstance(store_or_url, Queue):
            self._store: Queue = store_or_url
            self._owned = False
        else:
            # connect() now, not at the first request, so a bad URL fails at start-up.
            self._store = connect(store_or_url)
            self._owned = True
        self._opened = not self._owned
        self._open_lock = asyncio.Lock()
        self.read_only = read_only
        self.page_size = page_size
        self.refresh_seconds = refresh_seconds
        self.title = title
        self.signer = Signer(secret)
        self.csrf = Csrf(self.signer)
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("backyard.dashboard", "templates"),
            autoescape=True,  # every payload and error text is escaped, in every template
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(
            span=_format.span,
            relative=_format.relative,
            timestamp=_format.timestamp,
            iso=_format.to_iso,
            pretty_json=_format.pretty_json,
            shorten=_format.shorten,
        )
        env.globals.update(path_for=_path_for, with_query=_with_query, JobStatus=JobStatus)
        self.templates = Jinja2Templates(env=env)

    # -- the store ----------------------------------------------------------

    async def store(self) -> Queue:
        """The opened store.

        Opens it at first use when the lifespan did not run: Starlette and
        FastAPI do not run a mounted app's lifespan (see the docs for how to
        close it cleanly in that case).
        """
        if not self._opened:
            async with self._open_lock:
                if not self._opened:
                    await self._store.open()
                    self._opened = True
        return self._store

    async def open(self) -> None:
        await self.store()

    async def close(self) -> None:
        if self._owned and self._opened:
            self._opened = False
            await self._store.close()

    @property
    def store_label(self) -> str:
        return repr(self._store)

    # -- responses ----------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any],
        *,
        status_code: int = 200,
        fragment: str | None = None,
    ) -> Response:
        """Render a page, or only its live ``fragment`` when the refresh script asks."""
        live = fragment is not None and request.headers.get(LIVE_HEADER) == "1"
        token, new_token = self.csrf.token_for(request)
        notice = None if live else self.take_notice(request)
        response = self.templates.TemplateResponse(
            request,
            fragment if live and fragment else template,
            {
                "dash": self,
                "now": self._store.now_datetime(),
                "csrf_token": token,
                "notice": notice,
                **context,
            },
            status_code=status_code,
        )
        response.headers["Cache-Control"] = "no-store"
        if new_token and not live:
            response.set_cookie(
                Csrf.COOKIE,
                token,
                path=cookie_path(request),
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        if notice is not None:
            response.delete_cookie(NOTICE_COOKIE, path=cookie_path(request))
        return response

    def set_notice(self, request: Request, response: Response, text: str) -> None:
        """Show ``text`` once, on the next page rendered (after a redirect)."""
        encoded = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        response.set_cookie(
            NOTICE_COOKIE,
            self.signer.sign(encoded),
            path=cookie_path(request),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    def take_notice(self, request: Request) -> str | None:
        signed = request.cookies.get(NOTICE_COOKIE)
        encoded = self.signer.unsign(signed) if signed else None
        if encoded is None:
            return None
        try:
            return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except ValueError:
            return None


def cookie_path(request: Request) -> str:
    """The dashboard's own path, so its cookies go nowhere else in a host app."""
    root: str = request.scope.get("root_path", "")
    return root or "/"


@jinja2.pass_context
def _path_for(context: Mapping[str, Any], name: str, /, **params: Any) -> str:
    """The path (with any mount prefix) of a named route: links work when mounted."""
    request: Request = context["request"]
    return request.url_for(name, **params).path


@jinja2.pass_context
def _with_query(context: Mapping[str, Any], **changes: Any) -> str:
    """This page's path and query with some parameters changed (None removes one)."""
    request: Request = context["request"]
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: str(v) for k, v in changes.items() if v not in (None, "")})
    url = request.url.replace_query_params(**params)
    return f"{url.path}?{url.query}" if url.query else url.path


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    dash: Dashboard = request.app.state.dashboard
    return dash.render(
        request,
        "error.html",
        {"status": exc.status_code, "message": exc.detail},
        status_code=exc.status_code,
    )


async def _store_error(request: Request, exc: Exception) -> Response:
    # Most often the database is down or unreachable: say so, and let the
    # page's live refresh recover once it is back.
    log.warning("dashboard: the store failed: %s", exc)
    dash: Dashboard = request.app.state.dashboard
    return dash.render(
        request,
        "error.html",
        {"status": 503, "message": f"The job store did not answer: {exc}"},
        status_code=503,
    )


def create_app(
    store_or_url: Queue | str,
    *,
    read_only: bool = False,
    auth_token: str | None = None,
    basic_auth: tuple[str, str] | None = None,
    secret_key: str | bytes | None = None,
    page_size: int = 50,
    refresh_seconds: float = 2.0,
    title: str = "backyard",
) -> Starlette:
    """The dashboard as an ASGI app, to serve on its own or mount in yours.

    ::

        from starlette.routing import Mount
        from backyard.dashboard import create_app

        app = Starlette(routes=[Mount("/jobs", create_app(store, read_only=True))])

    Arguments:
        store_or_url: an opened ``Queue`` (the caller opens and closes it), or
            a storage URL, which the app opens in its lifespan and closes at
            shutdown (when mounted, at its first request: see the docs).
        read_only: hide every action and refuse the POSTs (403).
        auth_token: require this token, as ``Authorization: Bearer <token>``
            or as the password of HTTP basic auth (any user name), so a
            browser can log in at its prompt.
        basic_auth: require HTTP basic auth with this ``(user, password)``.
            With both set, either is accepted.
        secret_key: signs CSRF tokens and notices. Default:
            ``$BACKYARD_DASHBOARD_SECRET``, else random per process (set one
            when several server processes serve the same dashboard).
        page_size: rows per page in job lists.
        refresh_seconds: how often live views refresh; 0 turns it off.
        title: shown in the header and the browser tab.

    Raises ``ConfigurationError`` at once for an unsupported URL.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    secret = secret_key or os.environ.get(SECRET_ENV) or secrets.token_bytes(32)
    dashboard = Dashboard(
        store_or_url,
        read_only=read_only,
        page_size=page_size,
        refresh_seconds=refresh_seconds,
        secret=secret.encode() if isinstance(secret, str) else secret,
        title=title,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await dashboard.open()
        try:
            yield
        finally:
            await dashboard.close()

    middleware = [Middleware(SecurityHeaders)]
    if auth_token or basic_auth:
        middleware.append(Middleware(RequireAuth, token=auth_token, basic=basic_auth))
    app = Starlette(
        routes=[
            Route("/", _pages.overview, name="overview"),
            Route("/jobs", _pages.jobs, name="jobs"),
            Route("/jobs/{job_id}", _pages.job, name="job"),
            Route("/jobs/{job_id}/retry", _actions.retry, methods=["POST"], name="retry"),
            Route("/jobs/{job_id}/cancel", _actions.cancel, methods=["POST"], name="cancel"),
            Route("/jobs/{job_id}/delete", _actions.delete, methods=["POST"], name="delete"),
            Route("/dead", _pages.dead, name="dead"),
            Route("/dead/retry", _actions.retry_dead, methods=["POST"], name="retry_dead"),
            Route("/dead/delete", _actions.delete_dead, methods=["POST"], name="delete_dead"),
            Route("/scheduled", _pages.scheduled, name="scheduled"),
            Route("/workers", _pages.workers, name="workers"),
            Route("/metrics", _pages.metrics, name="metrics"),
            Mount(
                "/static",
                StaticFiles(packages=[("backyard.dashboard", "static")]),
                name="static",
            ),
        ],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: _http_error,
            BackyardError: _store_error,
            OSError: _store_error,
        },
    )
    app.state.dashboard = dashboard
    return app
