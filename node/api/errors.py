"""Stable error names: one table from the error taxonomy to names and HTTP statuses.

Every refusal the API sends is ``{"error": "<name>", "message": "<one line>"}``.
The names are those of the error classes the CLI already reports
(:mod:`samoorg.node.errors`, :mod:`samoorg.protocol.errors`,
:mod:`samoorg.crdt.framework.errors`), so a script sees the same name whether it ran a
command or called the API. :func:`error_name` finds the most specific entry of
:data:`TAXONOMY` along the exception's class hierarchy. Errors that exist only
at the HTTP layer (a missing token, a foreign ``Origin``) are :class:`ApiError`
with a name from :data:`HTTP_ERRORS`.

Plain Python: no web stack is imported here.
"""

from __future__ import annotations

from typing import Final

from samoorg.crdt.framework.errors import MalformedInput, RuleViolation
from samoorg.node.errors import Ambiguous, HomeError, KeyFileError, NodeError, NotFound, StoreError
from samoorg.protocol.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from samoorg.protocol.ids import BadIdentifier

TAXONOMY: Final[dict[type[BaseException], tuple[str, int]]] = {
    MalformedInput: ("malformed_input", 400),
    RuleViolation: ("rule_violation", 409),
    NotFound: ("not_found", 404),
    Ambiguous: ("ambiguous", 400),
    StoreError: ("store_error", 409),
    KeyFileError: ("key_file_error", 500),
    HomeError: ("home_error", 500),
    NodeError: ("node_error", 500),
    BadIdentifier: ("bad_identifier", 400),
    LocalProtocolError: ("invalid_record", 422),
    RemoteProtocolError: ("protocol_error", 422),
    ProtocolError: ("protocol_error", 422),
}
"""Error class -> (stable name, HTTP status). The CLI prints the same errors as one line."""

BY_QUALNAME: Final[dict[str, tuple[str, int]]] = {
    "samoorg.protocol.invite_code.BadInviteCode": ("bad_invite_code", 400),
    "samoorg.node.transport.BadAddress": ("bad_address", 400),
}
"""Entries of the taxonomy named, not imported (their modules are not light)."""

HTTP_ERRORS: Final[dict[str, int]] = {
    "unauthorized": 401,
    "forbidden_host": 403,
    "forbidden_origin": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "bad_json": 400,
    "bad_cursor": 400,
    "invalid_parameter": 422,
    "invalid_body": 422,
    "rate_limited": 429,
    "peer_unreachable": 502,
    "loading": 503,
    "internal_error": 500,
}
"""Names that only the HTTP layer raises, with their status."""


class ApiError(Exception):
    """A refusal of the HTTP layer: ``name`` is a key of :data:`HTTP_ERRORS`."""

    def __init__(self, name: str, message: str) -> None:
        if name not in HTTP_ERRORS:
            raise ValueError(f"expected an error name of HTTP_ERRORS, found {name!r}")
        super().__init__(message)
        self.name = name
        self.status = HTTP_ERRORS[name]


def error_name(exc: BaseException) -> tuple[str, int] | None:
    """``(name, status)`` of an error of the taxonomy, or ``None`` for anything else."""
    if isinstance(exc, ApiError):
        return exc.name, exc.status
    for cls in type(exc).__mro__:
        found = TAXONOMY.get(cls) or BY_QUALNAME.get(f"{cls.__module__}.{cls.__qualname__}")
        if found is not None:
            return found
    return None


def error_names() -> set[str]:
    """Every stable error name an answer may carry."""
    return {*HTTP_ERRORS, *(n for n, _ in TAXONOMY.values()), *(n for n, _ in BY_QUALNAME.values())}


def one_line(message: str) -> str:
    """A message folded onto one line (newlines and runs of spaces become one space)."""
    return " ".join(str(message).split())


def error_body(name: str, message: str) -> dict[str, str]:
    """The JSON body of every error answer."""
    return {"error": name, "message": one_line(message)}
