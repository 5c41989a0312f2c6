"""The daemon's local HTTP API (``/api/v1/``), served inside the daemon's trio loop.

Only :mod:`samoorg.node.api.server` and the modules it imports load the web
stack (Starlette, Hypercorn); :mod:`samoorg.node.api.shapes` and
:mod:`samoorg.node.api.errors` are plain Python that the CLI shares, so this
package's ``__init__`` imports nothing.
"""
