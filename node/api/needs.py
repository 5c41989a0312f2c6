"""The view domains each API path reads (loaded before its first answer).

Plain Python (no web stack): the application (:mod:`samoorg.node.api.app`)
loads them off the loop before a request, answering ``503 loading`` if they
take longer than the daemon's patience, and the OpenAPI document
(:mod:`samoorg.node.api.openapi`) lists that answer for these paths.
"""

from __future__ import annotations

from typing import Final

from samoorg.crdt.framework.domain import Domain
from samoorg.crdt.kinds.forum import ForumState
from samoorg.crdt.kinds.inbox import INBOX_DOMAINS
from samoorg.crdt.kinds.pledges import PledgeState
from samoorg.crdt.kinds.polls import PollsState
from samoorg.crdt.kinds.profiles import ProfilesState
from samoorg.crdt.kinds.ratings import RatingsState
from samoorg.crdt.kinds.trust import TrustState

_SOCIAL: Final = (TrustState, ForumState, RatingsState, PollsState)
_PLEDGES: Final = (PledgeState, ProfilesState)
NEEDS: Final[dict[str, tuple[type[Domain], ...]]] = {
    "/trust/pool": (TrustState,),
    "/trust/list": (TrustState,),
    "/invites": (TrustState,),
    "/members": (TrustState,),
    "/ideas": _SOCIAL,
    "/ideas/{id}": _SOCIAL,
    "/ratings": _SOCIAL,
    "/utility": _SOCIAL,
    "/polls": _SOCIAL,
    "/polls/{id}": _SOCIAL,
    "/pledges": _PLEDGES,
    "/pledges/{id}": _PLEDGES,
    "/ledger": _PLEDGES,
    "/requests": _PLEDGES,
    "/requests/{id}": _PLEDGES,
    "/initiatives": _PLEDGES,
    "/initiatives/{id}": _PLEDGES,
    "/inbox": INBOX_DOMAINS,
    "/names": (ProfilesState,),
    "/profiles/{id}": (ProfilesState,),
}
"""The domains each path reads, loaded off the loop before its first answer
(:meth:`LiveViews.ensure <samoorg.node.daemon_views.LiveViews.ensure>`); a
domain a path reads without being listed is loaded when used, on the loop."""
