"""The workbench page at `/_mock/`: how to connect, the API explorer, the live request journal,
faults and latency, the state, and the fidelity notes, in one page served by the mock itself.

The page is static (workbench_assets/) and built on the JSON admin surface (admin.py), which it
calls from its own origin, so the admin surface's rules (loopback, JSON writes, no foreign
Origin) hold for it as for any other caller. The explorer is Swagger UI, from the swagger-ui-py
package, which ships its files: nothing is fetched from the internet.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parent / "workbench_assets"
HOME = "/_mock/"


def swagger_ui_assets() -> Path:
    """Swagger UI's files as swagger-ui-py ships them (found without importing the package)."""
    found = importlib.util.find_spec("swagger_ui")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (it is one of the mock's dependencies)")
    return Path(list(found.submodule_search_locations)[0]) / "static"


def routes(guarded: Callable[[Callable[[Request], Awaitable[Any]]], Callable[[Request], Awaitable[Response]]]) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        return FileResponse(ASSETS / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})

    return [
        Route("/", guarded(page), methods=["GET"]),
        Mount("/assets/swagger-ui", app=StaticFiles(directory=swagger_ui_assets()), name="swagger-ui"),
        Mount("/assets", app=StaticFiles(directory=ASSETS), name="workbench"),
    ]


async def to_home(request: Request) -> Response:
    """`/` (and `/_mock` without its slash): the workbench page."""
    return RedirectResponse(HOME, status_code=307)
