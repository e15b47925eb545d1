"""The Starlette application: `create_app(settings)` is what uvicorn serves (cli/serve_cmd.py) and
what the tests drive with Starlette's TestClient. The endpoints are in server.py (anyone's) and
rar_routes.py (RAR's); this module lists the routes and their body limits.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .rar_routes import RarPages
from .server import (  # noqa: F401  (the names the tests and the dev tools use, from here)
    CSRF_COOKIE,
    HERE,
    SESSION_COOKIE,
    SMALL_FORM_BYTES,
    BodyLimit,
    SecurityHeaders,
    Web,
)
from .settings import Settings


def create_app(settings: Settings) -> Starlette:
    """The ASGI application of one server (its folders are made on the way)."""
    web = Web(settings)
    rar = RarPages(web)
    upload_limit = [Middleware(BodyLimit, limit=settings.max_body_bytes)]
    small = [Middleware(BodyLimit, limit=SMALL_FORM_BYTES)]
    routes = [
        Route("/", web.check_page, methods=["GET"]),
        Route("/", web.check_form, methods=["POST"], middleware=upload_limit),
        Route("/kvitto/{token}", web.receipt),
        Route("/kvitto/{token}/kontrollkopia", web.annotated_copy),
        Route("/insats/{key}", web.insats_page, methods=["GET"]),
        Route("/insats/{key}", web.insats_upload, methods=["POST"], middleware=upload_limit),
        Route("/insats/{key}/mall", web.insats_template),
        Route("/mall", web.blank_template),
        Route("/insats/{key}/kvitto/{token}", web.insats_receipt),
        Route("/api/uploads", web.api_upload, methods=["POST"], middleware=upload_limit),
        Route("/api/uploads/{token}", web.api_receipt),
        *rar.routes(small),
        Route("/tillganglighet", web.accessibility_page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: web.http_error, Exception: web.http_error},
    )
    app.state.web = web
    return app
