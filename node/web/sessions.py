"""Browser sessions of the web organizer: one-time login links, then a session cookie.

Theory of operation. ``samoorg web`` asks the running daemon, with the API's
bearer token, for a login link (``POST /api/v1/web/login``):
:meth:`WebSessions.issue` makes a random one-time secret, valid for
:data:`LINK_TTL` seconds, and the CLI prints ``http://127.0.0.1:PORT/login?once=SECRET``.
Visiting it (:meth:`WebSessions.redeem`) spends the secret and opens a
session: a random session id, sent back as a cookie (``HttpOnly``,
``SameSite=Strict``, named with the port, so that two nodes on one host
keep apart), and a random CSRF token that every form of the session carries.
A link works once; a session lasts :data:`SESSION_TTL` seconds of idleness
or until the daemon stops (sessions live in memory only). At most
:data:`MAX_SESSIONS` sessions and :data:`MAX_LINKS` unspent links are kept;
the oldest go first.

Plain Python: no web stack is imported here (the API's handler uses it too).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from samoorg.node.api.token import token_matches

LINK_TTL: Final = 300.0
SESSION_TTL: Final = 12 * 3600.0
MAX_SESSIONS: Final = 64
MAX_LINKS: Final = 16
SECRET_BYTES: Final = 32
MAX_SECRET_CHARS: Final = 128
COOKIE_PREFIX: Final = "samoorg_session_"


@dataclass(slots=True)
class Session:
    """One browser's session: its id (the cookie) and the CSRF token of its forms."""

    sid: str
    csrf: str
    seen: float
    flash: dict[str, Any] = field(default_factory=dict)
    """What the next page shows once (an invite's code, an action's notes), by page."""

    def csrf_matches(self, given: str) -> bool:
        """Compare a form's token in constant time."""
        return token_matches(self.csrf, given)

    def flash_once(self, page: str, value: Any = None) -> Any:
        """Leave ``value`` for the next view of ``page``; without one, take what was left."""
        if value is not None:
            self.flash[page] = value
            return value
        return self.flash.pop(page, None)


@dataclass(slots=True)
class WebSessions:
    """The daemon's login links and open sessions (in memory, bounded)."""

    clock: Callable[[], float] = time.monotonic
    _links: OrderedDict[str, float] = field(default_factory=OrderedDict)
    _sessions: OrderedDict[str, Session] = field(default_factory=OrderedDict)

    def issue(self) -> str:
        """A new one-time login secret."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        self._links[secret] = self.clock() + LINK_TTL
        while len(self._links) > MAX_LINKS:
            self._links.popitem(last=False)
        return secret

    def redeem(self, secret: str) -> Session | None:
        """Spend a login secret and open a session; ``None`` if unknown, spent or expired."""
        if not secret or len(secret) > MAX_SECRET_CHARS:
            return None
        found = next((s for s in self._links if token_matches(s, secret)), None)
        if found is None:
            return None
        expires = self._links.pop(found)
        now = self.clock()
        if now > expires:
            return None
        session = Session(secrets.token_urlsafe(SECRET_BYTES), secrets.token_urlsafe(16), now)
        self._sessions[session.sid] = session
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def find(self, sid: str) -> Session | None:
        """The live session with this cookie value (its idle time restarts)."""
        if not sid or len(sid) > MAX_SECRET_CHARS:
            return None
        session = self._sessions.get(sid)
        if session is None or not token_matches(session.sid, sid):
            return None
        now = self.clock()
        if now - session.seen > SESSION_TTL:
            del self._sessions[sid]
            return None
        session.seen = now
        self._sessions.move_to_end(sid)
        return session

    def close(self, sid: str) -> None:
        """End a session (log out)."""
        self._sessions.pop(sid, None)


def cookie_name(port: int) -> str:
    """The session cookie of the node on ``port`` (cookies do not tell ports apart)."""
    return f"{COOKIE_PREFIX}{port}"
