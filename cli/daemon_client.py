"""The CLI as a client of its home's daemon, when one runs and serves the API.

Theory of operation. ``samoorg node run`` owns the state: its views are in
memory and current, so a command answered by the daemon costs a request, not
a rebuild of the views from the store. :func:`connect` finds the daemon of
the command's home through the published ``daemon.json`` (which it trusts
only while the daemon holds the home's lock) and its token file; a command
that the API serves then asks it, and renders the answer exactly as it
renders its own offline result (both are the same JSON shapes,
:mod:`samoorg.node.api.shapes`), so the output is the same either way.

A daemon that has just started loads each view domain from its checkpoint
on first use, off its loop; a request whose views are still loading is
answered ``503 loading`` after a short wait (nothing was done). The client
then asks again, after the answer's ``Retry-After``, for at most
:data:`LOADING_BUDGET` seconds in all, printing one line on stderr
(:class:`LoadingWait` decides, without I/O): a healthy daemon that is loading
is waited for, never bypassed, since reading the store offline would repeat
the same work, slower.

``--offline`` (or ``SAMOORG_OFFLINE=1``) makes a command work on the store
directly even while a daemon runs; so does a daemon that cannot be reached
(its port closed, a timeout): the store is shared and every write goes
through the store's one write transaction, so the offline path is always
correct, only slower.

Only the standard library's ``http.client`` is used: local commands load no
web stack (a test checks it).
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlencode, urlsplit

from samoorg.cli.paging import Page, Paging
from samoorg.crdt.framework.errors import MalformedInput, RuleViolation
from samoorg.node.errors import Ambiguous, NodeError, NotFound, StoreError
from samoorg.node.home import Home
from samoorg.protocol.errors import LocalProtocolError, RemoteProtocolError
from samoorg.protocol.ids import BadIdentifier

if TYPE_CHECKING:
    from samoorg.node.actions import Action, Done

NOTES_HEADER: Final = "samoorg-notes"
"""The header of a write's remarks (:data:`samoorg.node.api.routes.NOTES_HEADER`)."""

TIMEOUT: Final = 10.0
"""Seconds to wait for the daemon before the command gives up on it."""
LOADING_BUDGET: Final = 120.0
"""Seconds in all a command waits for a daemon loading its views (``503 loading``)."""
RETRY_BOUNDS: Final = (0.1, 5.0)
"""The least and most seconds between two requests while the daemon loads."""
MAX_ANSWER: Final = 64 * 1024 * 1024
PAGE_LIMIT: Final = 500
"""Items asked for per request when a command wants every item (``--all``)."""

_ERRORS: Final[dict[str, type[Exception]]] = {
    "malformed_input": MalformedInput,
    "rule_violation": RuleViolation,
    "not_found": NotFound,
    "ambiguous": Ambiguous,
    "store_error": StoreError,
    "bad_identifier": BadIdentifier,
    "invalid_record": LocalProtocolError,
    "protocol_error": RemoteProtocolError,
}
"""Stable API error names and the error the CLI raises for each (the same one offline)."""


class DaemonUnavailable(Exception):
    """The daemon did not answer; the command falls back to the store."""


class DaemonSkipped(DaemonUnavailable):
    """The request is not for the API (a body over its cap): the command uses the store."""


class DaemonRefused(NodeError):
    """An API refusal without a counterpart in the taxonomy (a bad token, a rate limit)."""


class DaemonBusy(DaemonRefused):
    """``rate_limited``: the request was refused before it did anything; retry after a while."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DaemonLoading(Exception):
    """``503 loading``: the views the request reads are loading; nothing was done."""

    def __init__(self, message: str, retry_after: str | None, domains: Sequence[str]) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.domains = tuple(domains)


@dataclass(slots=True)
class LoadingWait:
    """While a daemon answers ``503 loading``: when to ask again, when to give up (sans-IO).

    The budget counts from the first ``loading`` answer of the command, over all
    its requests; the announcement is made once.
    """

    budget: float = LOADING_BUDGET
    started: float | None = None
    announced: bool = False

    def delay(self, now: float, retry_after: str | None) -> float | None:
        """Seconds to wait before asking again, or ``None``: the budget is spent."""
        if self.started is None:
            self.started = now
        left = self.started + self.budget - now
        if left <= 0:
            return None
        low, high = RETRY_BOUNDS
        try:
            asked = float(retry_after) if retry_after is not None else 1.0
        except ValueError:  # an HTTP date, or garbage: the default
            asked = 1.0
        return min(max(asked, low), high, left)

    def announcement(self, domains: Sequence[str]) -> str | None:
        """The one stderr line of the wait (``None`` once said)."""
        if self.announced:
            return None
        self.announced = True
        if not domains:
            return "waiting for the daemon to load its views..."
        return f"waiting for the daemon to load the {', '.join(domains)} view" + (
            "s..." if len(domains) > 1 else "..."
        )


class DaemonLost(NodeError):
    """A write was sent but no answer came: it may or may not be stored (never retried)."""


@dataclass(frozen=True, slots=True)
class DaemonClient:
    """Requests to one running daemon's API."""

    host: str
    port: int
    token: str
    waiting: LoadingWait = field(default_factory=LoadingWait, compare=False, repr=False)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET /api/v1{path}``; ``None`` values and false flags are left out."""
        return self._request("GET", path + _query(params or {}), None)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """``POST /api/v1{path}`` with a JSON body."""
        return self._request("POST", path, json.dumps(body).encode())

    def post_answer(
        self, path: str, body: Mapping[str, Any], *, timeout: float = TIMEOUT
    ) -> tuple[Any, dict[str, str]]:
        """``POST /api/v1{path}``: the answer's JSON and its headers (lowercase names).

        A body larger than the API accepts raises :class:`DaemonSkipped`
        before anything is sent.
        """
        from samoorg.node.api.security import MAX_BODY

        data = json.dumps(body).encode()
        if len(data) > MAX_BODY:
            raise DaemonSkipped(f"the body is larger than the API's {MAX_BODY} bytes")
        return self._exchange("POST", path, data, timeout)

    def act(self, action: Action, body: Mapping[str, Any], ident: str | None = None) -> Done:
        """Run a write action on the daemon: the same :class:`Done` as offline, without entries.

        A body larger than the API accepts raises :class:`DaemonSkipped`
        before anything is sent (the command then writes on the store).
        """
        from samoorg.node.actions import Done
        from samoorg.node.api.security import MAX_BODY

        path = action.path.replace("{id}", quote(ident or "", safe=""))
        data = json.dumps(body).encode()
        if len(data) > MAX_BODY:
            raise DaemonSkipped(f"the body is larger than the API's {MAX_BODY} bytes")
        shape, headers = self._exchange(action.method.upper(), path, data)
        notes = json.loads(headers.get(NOTES_HEADER, "[]"))
        return Done(shape, (), tuple(str(n) for n in notes))

    def page(self, path: str, params: Mapping[str, Any], asked: Paging) -> Page:
        """The page ``asked`` for of a listing (every item, page by page, for ``--all``)."""
        if asked.limit is None:
            items: list[Any] = []
            answer: dict[str, Any] = {}
            for answer in self._answers(path, params):
                items += answer["items"]
            return _page(answer, items)
        answer = self.get(path, {**params, **asked.query()})
        return _page(answer, answer["items"])

    def sections(
        self, path: str, params: Mapping[str, Any], asked: Paging, names: tuple[str, ...]
    ) -> dict[str, Any]:
        """The page ``asked`` for of a listing of several lists ``names`` that one cursor
        pages at once (``GET /ledger``); for ``--all``, each list concatenated page by page."""
        if asked.limit is not None:
            answer: dict[str, Any] = self.get(path, {**params, **asked.query()})
            return answer
        merged: dict[str, Any] = {}
        for answer in self._answers(path, params):
            merged = {**answer, **{n: [*merged.get(n, ()), *answer[n]] for n in names}}
        return merged

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a listing, following ``next_cursor`` (bounded by the listing)."""
        for answer in self._answers(path, params):
            yield from answer["items"]

    def _answers(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a listing, following ``next_cursor``."""
        cursor: str | None = None
        while True:
            page = self.get(path, {**params, "limit": PAGE_LIMIT, "cursor": cursor})
            yield page
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def _request(self, method: str, path: str, body: bytes | None) -> Any:
        return self._exchange(method, path, body)[0]

    def _exchange(
        self, method: str, path: str, body: bytes | None, timeout: float = TIMEOUT
    ) -> tuple[Any, dict[str, str]]:
        """The answer's JSON and headers (lowercase names); errors raised as the CLI's.

        Asks again while the daemon answers ``503 loading`` (:class:`LoadingWait`);
        once the budget is spent, raises :class:`DaemonUnavailable`.
        """
        while True:  # bounded: LoadingWait.delay gives up after its budget
            try:
                return self._exchange_once(method, path, body, timeout)
            except DaemonLoading as loading:
                wait = self.waiting
                delay = wait.delay(time.monotonic(), loading.retry_after)
                if delay is None:
                    raise DaemonUnavailable(
                        f"the daemon was still loading its views after {wait.budget:g} s"
                    ) from None
                line = wait.announcement(loading.domains)
                if line is not None:
                    sys.stderr.write(line + "\n")
                    sys.stderr.flush()
                time.sleep(delay)

    def _exchange_once(
        self, method: str, path: str, body: bytes | None, timeout: float
    ) -> tuple[Any, dict[str, str]]:
        headers = {"Authorization": f"Bearer {self.token}", "Host": f"{self.host}:{self.port}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        sent = False
        try:
            connection.connect()
            sent = method != "GET"
            connection.request(method, "/api/v1" + path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read(MAX_ANSWER + 1)
        except (OSError, http.client.HTTPException) as exc:
            if sent:  # a write may have been stored: writing it again offline could double it
                raise DaemonLost(
                    f"the daemon did not answer ({exc}); the record may have been stored: "
                    "see 'samoorg log --limit 5' before trying again"
                ) from None
            raise DaemonUnavailable(str(exc)) from None
        finally:
            connection.close()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        try:
            value = json.loads(data)
        except ValueError:
            found = f"expected JSON from the daemon, found {data[:40]!r}"
            raise (DaemonLost if sent else DaemonUnavailable)(found) from None
        if response.status < 400:
            return value, answer_headers
        name = value.get("error") if isinstance(value, dict) else None
        message = value.get("message", "") if isinstance(value, dict) else ""
        if name == "loading" and response.status == 503:
            found = value.get("loading")
            listed = found if isinstance(found, list) else []
            domains = [str(d["domain"]) for d in listed if isinstance(d, dict) and "domain" in d]
            raise DaemonLoading(message, answer_headers.get("retry-after"), domains)
        if name == "rate_limited":
            wait = answer_headers.get("retry-after", "1")
            raise DaemonBusy(message, float(wait) if wait.isdigit() else 1.0)
        raise _error_class(str(name))(message or f"the daemon answered {name}")


def _error_class(name: str) -> type[Exception]:
    """The error the CLI raises for an API error ``name`` (the one it raises offline)."""
    if name == "bad_invite_code":
        from samoorg.protocol.invite_code import BadInviteCode

        return BadInviteCode
    if name == "bad_address":
        from samoorg.node.transport import BadAddress

        return BadAddress
    return _ERRORS.get(name, DaemonRefused)


def _page(answer: Mapping[str, Any], items: list[Any]) -> Page:
    """A :class:`Page` of ``items`` with the listing's other fields of ``answer``."""
    extra = {k: v for k, v in answer.items() if k not in ("items", "next_cursor")}
    return Page(items, answer.get("next_cursor"), extra)


def _query(params: Mapping[str, Any]) -> str:
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None or value is False:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        pairs += [(name, "true" if v is True else str(v)) for v in values]
    return "?" + urlencode(pairs) if pairs else ""


def connect(home: Home, *, offline: bool = False) -> DaemonClient | None:
    """A client of ``home``'s running daemon, or ``None`` (no daemon, no API, or offline)."""
    if offline:
        return None
    from samoorg.node.daemon_state import read_state

    state = read_state(home)
    api = state.get("api") if state is not None else None
    if not isinstance(api, dict) or not isinstance(api.get("url"), str):
        return None
    from pathlib import Path

    from samoorg.node.api.token import read_token

    parts = urlsplit(api["url"])
    if parts.scheme != "http" or parts.hostname is None or parts.port is None:
        return None
    token_path = api.get("token_file")
    token = read_token(Path(token_path) if isinstance(token_path, str) else home.path)
    return DaemonClient(parts.hostname, parts.port, token)
