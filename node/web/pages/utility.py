"""The utility page (to be built: see samoorg.node.web for how a page is added)."""

from __future__ import annotations

from samoorg.node.web.pages import soon

ROUTES = soon("utility", "/utility")
