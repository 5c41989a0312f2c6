"""Peer book actions: peers to dial, feeds to follow, petnames (``peers.sqlite``).

These write no record: the peer book is the node's own bookkeeping, never
replicated (``node/peerbook.py``). They are actions all the same (the API's
routes and OpenAPI document come from :data:`~samoorg.node.actions.table.ACTIONS`)
so that ``samoorg peer add``, ``follow`` and ``name set`` behave alike offline
and through the daemon: the daemon runs them itself and applies the change at
once (it dials a new peer, widens its replication scope) instead of noticing
it at its next poll of the file. Each opens the peer book for the one change
(SQLite in WAL mode, one short transaction), as a command offline does.

Refusals: a malformed address is :class:`~samoorg.node.transport.BadAddress`
(bad usage, ``bad_address`` in the API), our own address a
:class:`~samoorg.crdt.framework.errors.RuleViolation`, a peer or name that is
not there :class:`~samoorg.node.errors.NotFound`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from samoorg.node.actions import Action, Args, Done, Field, text
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.node.actions import Actor
    from samoorg.node.home import Home

MAX_FOLLOW: Final = 100
"""Feeds one ``follow`` may name (the API's body cap bounds it too)."""


def peer_add(home: Home, me: bytes, *, address: str) -> Done:
    """Remember the peer of ``address`` (a multiaddr ending in ``/p2p/<id>``), source manual.

    Takes the home and our key, not an :class:`Actor`: offline it needs no views.
    """
    from samoorg.crdt.framework.errors import RuleViolation
    from samoorg.node.peerbook import PeerBook
    from samoorg.node.transport import split_address

    transport_part, key = split_address(address)
    if key == me:
        raise RuleViolation("that address is this node itself")
    with PeerBook.open(home) as book:
        record = book.add(key, [transport_part], "manual")
    return Done({"id": peer_id(key), "addrs": list(record.addrs), "source": record.source})


def peer_remove(actor: Actor, *, peer: str) -> Done:
    """Forget a peer (its feed stays in the store)."""
    from samoorg.node.peerbook import PeerBook

    key = actor.member(peer)
    with PeerBook.open(actor.home) as book:
        _known(book.remove(key), key, "in the peer book")
    return Done({"removed": peer_id(key)})


def follow(actor: Actor, *, ids: Sequence[str]) -> Done:
    """Replicate these participants' feeds too; ``new`` counts those not yet followed."""
    from samoorg.crdt.framework.errors import MalformedInput
    from samoorg.node.peerbook import PeerBook

    if not 1 <= len(ids) <= MAX_FOLLOW:
        raise MalformedInput(f"expected 1 to {MAX_FOLLOW} participants, found {len(ids)}")
    keys = [actor.member(ident) for ident in ids]
    with PeerBook.open(actor.home) as book:
        added = book.follow(keys)
    return Done({"following": [peer_id(k) for k in keys], "new": added})


def unfollow(actor: Actor, *, peer: str) -> Done:
    """Stop replicating a followed feed (entries already stored stay)."""
    from samoorg.node.peerbook import PeerBook

    key = actor.member(peer)
    with PeerBook.open(actor.home) as book:
        _known(book.unfollow(key), key, "followed")
    return Done({"unfollowed": peer_id(key)})


def name_set(actor: Actor, *, who: str, name: str) -> Done:
    """Give a participant a petname; a petname names one participant only."""
    from samoorg.node.names import give_petname

    key = actor.member(who)
    wanted = give_petname(actor.home, actor.names(), key, name)
    return Done({"id": peer_id(key), "petname": wanted})


def name_remove(actor: Actor, *, who: str) -> Done:
    """Forget the petname given to a participant."""
    from samoorg.node.names import forget_petname

    key = actor.member(who)
    forget_petname(actor.home, key)
    return Done({"id": peer_id(key), "petname": None})


def _known(found: bool, key: bytes, what: str) -> None:
    from samoorg.node.errors import NotFound

    if not found:
        raise NotFound(f"{peer_id(key)} is not {what}")


def _ids(args: Args) -> list[str]:
    return [str(ident) for ident in args["ids"]]


_WHO = Field("id", str, "A participant: peer id, 6+ characters of it, or a name.", True)

PEER_ACTIONS: Final[tuple[Action, ...]] = (
    Action(
        "peer.add",
        "post",
        "/peers",
        "Remember a peer to dial (source manual); the daemon dials it at once.",
        (Field("address", str, "Multiaddr ending in /p2p/<peer id>.", True, {"maxLength": 1000}),),
        lambda actor, args: peer_add(actor.home, actor.me, address=text(args, "address")),
        "PeerAdded",
        peer_book=True,
    ),
    Action(
        "peer.remove",
        "post",
        "/peers/remove",
        "Forget a peer (its feed stays in the store).",
        (_WHO,),
        lambda actor, args: peer_remove(actor, peer=text(args, "id")),
        "PeerRemoved",
        status=200,
        peer_book=True,
    ),
    Action(
        "follow",
        "post",
        "/follows",
        "Replicate these participants' feeds too.",
        (Field("ids", list, "Participants (ids, fragments or names).", True, {"maxItems": 100}),),
        lambda actor, args: follow(actor, ids=_ids(args)),
        "Followed",
        peer_book=True,
    ),
    Action(
        "unfollow",
        "post",
        "/follows/remove",
        "Stop replicating a followed feed (entries already stored stay).",
        (_WHO,),
        lambda actor, args: unfollow(actor, peer=text(args, "id")),
        "Unfollowed",
        status=200,
        peer_book=True,
    ),
    Action(
        "name.set",
        "post",
        "/names",
        "Give a participant a name of your own (never shared).",
        (_WHO, Field("name", str, "The name (at most 40 characters).", True, {"maxLength": 200})),
        lambda actor, args: name_set(actor, who=text(args, "id"), name=text(args, "name")),
        "Petname",
        peer_book=True,
    ),
    Action(
        "name.remove",
        "post",
        "/names/remove",
        "Forget the name you gave a participant.",
        (_WHO,),
        lambda actor, args: name_remove(actor, who=text(args, "id")),
        "Petname",
        status=200,
        peer_book=True,
    ),
)
"""The peer book's actions (part of :data:`~samoorg.node.actions.table.ACTIONS`)."""
