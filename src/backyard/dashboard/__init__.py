"""The web dashboard: queues, jobs, dead letters and workers in a browser.

Run it with ``backyard dashboard``, or mount it in your own ASGI app::

    from starlette.routing import Mount
    from backyard.dashboard import create_app

    routes = [Mount("/jobs", create_app("postgresql://localhost/app", auth_token=TOKEN))]

Needs the ``dashboard`` extra: ``pip install 'backyard[dashboard]'``.
"""

from ._app import Dashboard, create_app

__all__ = ["Dashboard", "create_app"]
