"""One module per page of the navigation (:data:`samoorg.node.web.site.NAV`).

Each module exports ``ROUTES``: the Starlette routes of its page (``GET``)
and of its forms (``POST``). A page not built yet uses :func:`soon`, which
shows the layout and a line saying so. How to add a page: see
:mod:`samoorg.node.web`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from samoorg.node.web.render import page


def soon(name: str, path: str) -> list[Route]:
    """The routes of a page that is not built yet: the layout and a placeholder."""

    async def placeholder(request: Request) -> Response:
        return page(request, "soon.html", {"page": name}, active=name)

    return [Route(path, placeholder)]
