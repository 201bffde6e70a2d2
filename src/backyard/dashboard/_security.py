"""Who may see the dashboard, and proof that an action came from its own pages.

- ``RequireAuth``: HTTP basic auth and/or a bearer token, checked before
  anything else (pages, static files and ``/metrics`` alike).
- ``Signer`` and ``Csrf``: a signed double-submit token. The token lives in a
  cookie and in a hidden field of every action form; a POST must carry both,
  equal, with a valid signature. A page on another site can make the
  browser send the cookie (SameSite=Strict already stops most browsers) but
  cannot read it to fill in the field. The signature, keyed by a server
  secret and bound to the signed-in identity, stops a cookie planted from a
  sibling subdomain, since whoever planted it cannot sign one for someone
  else. Only ``hmac``/``secrets`` from the standard library are needed.
- ``SecurityHeaders``: a strict Content-Security-Policy (no inline script,
  so an escaped payload could not run even if escaping failed) and no
  framing (the action buttons cannot be click-jacked).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PRINCIPAL_KEY = "backyard.principal"  # in the ASGI scope: who passed RequireAuth


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class RequireAuth:
    """ASGI middleware: let a request through only with the right credentials.

    Accepted: ``Authorization: Bearer <token>``; basic auth whose password is
    the token (any user name: a browser's login prompt can send it); basic
    auth with the configured user and password. Anything else gets 401 with
    a basic-auth challenge, which makes browsers ask.
    """

    def __init__(
        self, app: ASGIApp, token: str | None = None, basic: tuple[str, str] | None = None
    ) -> None:
        if not token and not basic:
            raise ValueError("RequireAuth needs a token or a (user, password) pair")
        self.app = app
        self.token = token
        self.basic = basic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        principal = self.principal(Headers(scope=scope).get("authorization", ""))
        if principal is None:
            response = PlainTextResponse(
                "Authentication required.\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="backyard dashboard", charset="UTF-8"'},
            )
            await response(scope, receive, send)
            return
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)

    def principal(self, authorization: str) -> str | None:
        """Who the header proves the caller to be, or None."""
        scheme, _, value = authorization.partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if scheme == "bearer" and self.token and constant_time_equal(value, self.token):
            return "token"
        if scheme != "basic":
            return None
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        if not sep:
            return None
        if self.token and constant_time_equal(password, self.token):
            return "token"
        if self.basic is not None:
            # Both compared every time, so timing tells nothing about which was wrong.
            user_ok = constant_time_equal(user, self.basic[0])
            password_ok = constant_time_equal(password, self.basic[1])
            if user_ok and password_ok:
                return f"user:{user}"
        return None


class Signer:
    """HMAC-SHA256 signatures of short strings, keyed by a server secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def signature(self, value: str) -> str:
        digest = hmac.new(self._secret, value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, value: str) -> str:
        """``value.signature``; ``value`` must not contain a dot."""
        return f"{value}.{self.signature(value)}"

    def unsign(self, signed: str) -> str | None:
        """The value if the signature is right, else None."""
        value, sep, signature = signed.rpartition(".")
        if not sep or not constant_time_equal(signature, self.signature(value)):
            return None
        return value


class Csrf:
    """Signed double-submit tokens for the dashboard's POST actions."""

    COOKIE = "backyard_csrf"
    FIELD = "csrf_token"

    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    def _bound(self, nonce: str, request: Request) -> str:
        # Bind to the identity RequireAuth established ("" with no auth), so a
        # token minted for one user does not validate for another.
        principal = str(request.scope.get(PRINCIPAL_KEY, ""))
        return f"{nonce}|{principal}"

    def _valid(self, token: str, request: Request) -> bool:
        nonce, sep, signature = token.partition(".")
        if not sep or not nonce:
            return False
        return constant_time_equal(signature, self._signer.signature(self._bound(nonce, request)))

    def token_for(self, request: Request) -> tuple[str, bool]:
        """The request's token (from its cookie if valid), and whether it is new."""
        current = request.cookies.get(self.COOKIE, "")
        if current and self._valid(current, request):
            return current, False
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._signer.signature(self._bound(nonce, request))}", True

    def check(self, request: Request, form: Mapping[str, object]) -> bool:
        """Whether a POST carries the cookie and the same, validly signed, token."""
        cookie = request.cookies.get(self.COOKIE, "")
        submitted = form.get(self.FIELD)
        if not cookie or not isinstance(submitted, str):
            return False
        return constant_time_equal(cookie, submitted) and self._valid(cookie, request)


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """ASGI middleware adding browser-hardening headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)
