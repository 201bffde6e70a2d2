"""A real uvicorn server on 127.0.0.1 in a thread, for the browser test and the screenshot script."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp


class ServerThread:
    """Serves ``app`` on a free port of 127.0.0.1 while the ``with`` block runs."""

    def __init__(self, app: ASGIApp) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="dashboard-server", daemon=True)

    @property
    def url(self) -> str:
        [server] = self.server.servers
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the dashboard server failed to start (see its log above)")
            if time.monotonic() > deadline:
                raise RuntimeError("the dashboard server did not start within 15 s")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
