"""The replication session: one sans-IO state machine per sync stream, h11 style.

Theory of operation
-------------------
Replication is symmetric: both ends run this same machine, and neither is a
client or a server. Bytes from the transport go into
:meth:`SyncSession.receive_data`; :meth:`SyncSession.next_event` turns them
into messages (or :data:`NEED_DATA`, or :class:`Closed` at end of stream);
:meth:`SyncSession.send` turns our messages into bytes to write. The session
does no I/O, keeps no clock and never touches a store: deciding *what* to
send, storing what arrives and timing out a slow peer are the driver's job
(:mod:`samoorg.node.replication`). The session decides what is *allowed*.

1. **Handshake.** Each side's first message is ``Hello``: protocol version,
   the credit it grants, whether it wants to stay live, the heads of the
   feeds in its replication scope (``seq 0`` for a wanted feed it lacks),
   and the authors it holds fork proofs for. The heads a side sends are the
   feeds it *wants*; the peer may send entries and fork proofs of those
   authors only.
2. **Catch-up.** Each side sends what the other lacked when the hellos
   crossed (``Entries`` batches, ``Fork`` proofs), then ``CaughtUp``.
3. **Live.** If both hellos said ``live``, either side may keep sending
   ``Entries`` and ``Fork`` as its store grows, and ``Want`` to widen its
   scope. Otherwise the session is *complete* once both sides sent
   ``CaughtUp`` and every ``Entries`` frame was acknowledged; then either
   side closes the stream.

Flow control: ``Hello.credit`` is how many ``Entries`` frames the sender of
the hello accepts unacknowledged. Each ``Entries`` frame uses one credit; an
``Ack(n)`` returns ``n``. Sending beyond credit is a
:class:`LocalProtocolError`; receiving beyond it a :class:`FlowControlError`.
The receiver cannot see when its acks reach the sender, so it judges by what
the sender must have known: an ack counts for a received ``Entries`` frame
only if we sent it before the first byte of that frame arrived (bytes of a
later frame were written before our ack could be read). That never blames a
sender that obeys its own count, and it catches one that writes more frames
than its credit before our acks can reach it, however fast we ack. So one
session buffers at most ``credit`` frames of at most 1 MiB. ``Fork`` frames
take no credit but each author's proof may cross once per direction.

Rules: each direction is a :class:`_Direction`, and every rule is written
once, in :meth:`SyncSession._judge`, for both: a message we receive is judged
with the peer's errors, one we send with :class:`LocalProtocolError`. A
received frame is decoded whole first (shape, limits, entries, fork proof),
then judged; the checks run in one fixed order (docs/protocol.md §7.4,
"Precedence"), so the first rule a message breaks always names the error.

State diagram (each direction has its own state; ERROR is shared and final)::

      our side                                  their side
      --------                                  ----------
       START                                      START
         | send Hello                               | receive Hello
         v                                          v
      SYNCING  <-- send Entries, Fork, Ack       SYNCING  <-- receive Entries, Fork, Ack
         | send CaughtUp                            | receive CaughtUp
         v                                          v
       SYNCED  <-- send Fork, Ack;               SYNCED  <-- receive Fork, Ack;
                   if live: Entries, Want                    if live: Entries, Want
                                                    |
                                                    | end of stream (from any state)
                                                    v
                                                  CLOSED

      any violation, either direction  ──►  ERROR (every later call raises the first error)
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Final, TypeAlias

from samoorg.protocol.errors import (
    FlowControlError,
    LocalProtocolError,
    OutOfScope,
    ProtocolError,
    RemoteProtocolError,
    TooLarge,
    UnexpectedMessage,
)
from samoorg.protocol.framing import END, NEED_DATA, FrameDecoder, Signal, encode_frame
from samoorg.protocol.ids import peer_id
from samoorg.protocol.sync_messages import (
    Ack,
    Batch,
    CaughtUp,
    Entries,
    Fork,
    Hello,
    Message,
    Received,
    Want,
    decode_message,
    encode_message,
)

MAX_WANTED: Final = 65536
"""Most distinct authors one side may want over a whole session."""

__all__ = ["MAX_WANTED", "NEED_DATA", "Closed", "Event", "State", "SyncSession"]


class State(enum.Enum):
    """The state of one direction of a session (see the module's diagram)."""

    START = "start"
    SYNCING = "syncing"
    SYNCED = "synced"
    CLOSED = "closed"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Closed:
    """The peer ended the stream at a frame boundary (it may resume later)."""


Event: TypeAlias = Received | Closed
"""What :meth:`SyncSession.next_event` returns besides :data:`NEED_DATA`."""


def _short(author: bytes) -> str:
    return peer_id(author)[:16] + "…"


class _Direction:
    """One direction of the stream, as this side can judge it.

    ``remote`` directions carry the peer's messages (a broken rule is the
    peer's :class:`RemoteProtocolError`); the other carries ours (a broken rule
    is our :class:`LocalProtocolError`, raised instead of sending).
    """

    def __init__(self, *, remote: bool) -> None:
        self.remote = remote
        self.reverse: _Direction = self
        """The other direction (set by :class:`SyncSession`)."""
        self.state = State.START
        self.hello: Hello | None = None
        """The hello this direction carried."""
        self.wants: set[bytes] = set()
        """Authors the receiving end asked for: its hello's heads, then its wants."""
        self.forks: set[bytes] = set()
        """Authors whose fork proof this direction carried."""
        self.caught_up = False
        """Whether this direction carried ``CaughtUp`` (it stays true after a close)."""
        self.batches = 0
        """``entries`` messages this direction carried."""
        self.acked = 0
        """How many of them the receiving end acknowledged (the sum of its acks)."""
        self._seen = 0
        self._acks: deque[tuple[int, int]] = deque()

    def fault(self, error: type[RemoteProtocolError], message: str) -> ProtocolError:
        """The error for a broken rule: the peer's ``error``, or our own misuse."""
        return error(message) if self.remote else LocalProtocolError(message)

    def acknowledge(self, count: int, at: int) -> None:
        """The receiving end acked ``count`` more; the sender sees it from position ``at`` on."""
        self.acked += count
        if self._acks and self._acks[-1][0] == at:
            self._acks.pop()
        self._acks.append((at, self.acked))

    def in_flight(self, at: int) -> int:
        """Unacknowledged ``entries`` messages, counting one starting at stream position ``at``.

        An ack counts only if it was sent before the first byte of that
        message arrived: the sender cannot have seen a later one when it chose
        to send. For our own sends every ack received counts (``at`` is 0).
        """
        while self._acks and self._acks[0][0] <= at:
            self._seen = self._acks.popleft()[1]
        return self.batches + 1 - self._seen


class SyncSession:
    """One replication session; see the module docstring for the rules."""

    def __init__(self) -> None:
        self._frames = FrameDecoder()
        self._error: ProtocolError | None = None
        self._ours = _Direction(remote=False)
        self._theirs = _Direction(remote=True)
        self._ours.reverse, self._theirs.reverse = self._theirs, self._ours

    # -- state -----------------------------------------------------------------

    @property
    def our_state(self) -> State:
        """Our direction's state (ERROR once anything failed)."""
        return State.ERROR if self._error else self._ours.state

    @property
    def their_state(self) -> State:
        """Their direction's state (ERROR once anything failed)."""
        return State.ERROR if self._error else self._theirs.state

    @property
    def error(self) -> ProtocolError | None:
        """The error that put the session in its error state, if any."""
        return self._error

    @property
    def our_hello(self) -> Hello | None:
        """The hello we sent, once sent."""
        return self._ours.hello

    @property
    def their_hello(self) -> Hello | None:
        """The hello we received, once received."""
        return self._theirs.hello

    @property
    def wanted(self) -> AbstractSet[bytes]:
        """Authors we asked for (our hello's heads, then our wants)."""
        return self._theirs.wants

    @property
    def peer_wants(self) -> AbstractSet[bytes]:
        """Authors the peer asked for (its hello's heads, then its wants)."""
        return self._ours.wants

    @property
    def forks_sent(self) -> AbstractSet[bytes]:
        """Authors whose fork proof we sent."""
        return self._ours.forks

    @property
    def forks_received(self) -> AbstractSet[bytes]:
        """Authors whose fork proof we received."""
        return self._theirs.forks

    @property
    def unacked(self) -> int:
        """Our ``Entries`` frames the peer has not acknowledged yet."""
        return self._ours.batches - self._ours.acked

    @property
    def unanswered(self) -> int:
        """Their ``Entries`` frames we have not acknowledged yet."""
        return self._theirs.batches - self._theirs.acked

    @property
    def live(self) -> bool:
        """Whether both hellos asked to stay live after catch-up."""
        ours, theirs = self._ours.hello, self._theirs.hello
        return ours is not None and theirs is not None and ours.live and theirs.live

    @property
    def their_caught_up(self) -> bool:
        """Whether the peer has sent ``CaughtUp`` (it stays true after they close)."""
        return self._theirs.caught_up

    @property
    def send_credit(self) -> int:
        """How many ``Entries`` frames we may send right now."""
        if self._theirs.hello is None:
            return 0
        return self._theirs.hello.credit - self.unacked

    @property
    def caught_up(self) -> bool:
        """Catch-up is over both ways: both sent ``CaughtUp`` and the peer acked all we sent."""
        return (
            self._error is None
            and self._ours.state is State.SYNCED
            and self.their_caught_up
            and self.unacked == 0
        )

    @property
    def complete(self) -> bool:
        """A one-shot session is done: caught up, and we acked all the peer sent too."""
        return self.caught_up and not self.live and self.unanswered == 0

    @property
    def buffered(self) -> int:
        """Received bytes not yet returned as events (nonzero: a frame is under way)."""
        return self._frames.buffered

    def _fail(self, error: ProtocolError) -> ProtocolError:
        if self._error is None:
            self._error = error
        return self._error

    # -- the rules, written once for both directions -------------------------------

    def _judge(self, way: _Direction, message: Message, at: int) -> None:
        """Raise unless ``message`` may travel ``way`` now (``at``: where it starts).

        The checks run in the order of docs/protocol.md §7.4 ("Precedence"),
        so the first rule the message breaks names the error.
        """
        back = way.reverse
        name = type(message).__name__
        # 1. Order: a hello first, and only one.
        if way.state is State.START:
            if not isinstance(message, Hello):
                raise way.fault(
                    UnexpectedMessage, f"expected Hello as the first message, found {name}"
                )
            return
        if isinstance(message, Hello):
            raise way.fault(UnexpectedMessage, "expected one Hello per session, found a second")
        # 2. State.
        if isinstance(message, Entries | Batch | Fork | CaughtUp) and back.hello is None:
            raise way.fault(
                UnexpectedMessage,
                f"expected {name} only after the receiver's Hello, found it before",
            )
        if isinstance(message, Entries | Batch) and way.state is State.SYNCED and not self.live:
            raise way.fault(
                UnexpectedMessage,
                "expected no Entries after CaughtUp in a one-shot session, found some",
            )
        if isinstance(message, CaughtUp) and way.state is not State.SYNCING:
            raise way.fault(UnexpectedMessage, "expected one CaughtUp per session, found a second")
        if isinstance(message, Want) and not self.live:
            raise way.fault(
                UnexpectedMessage, "expected Want only when both hellos said live, found one"
            )
        # 3. Flow control.
        if isinstance(message, Entries | Batch):
            assert back.hello is not None
            credit, in_flight = back.hello.credit, way.in_flight(at)
            if in_flight > credit:
                raise way.fault(
                    FlowControlError,
                    f"expected at most {credit} unacknowledged Entries frames (the credit "
                    f"granted), found {in_flight}",
                )
        if isinstance(message, Ack):
            unacked = back.batches - back.acked
            if message.count > unacked:
                raise way.fault(
                    FlowControlError,
                    f"expected an ack of at most {unacked} frames, found {message.count}",
                )
        # 4. Scope: the first author in message order that the receiver did not ask for.
        if isinstance(message, Entries | Batch | Fork):
            authors = (message.proof.author,) if isinstance(message, Fork) else message.authors
            # A fork proof may also be of an author the receiver listed in its
            # hello's forks: a proof with a lower cut replaces the one it holds (§4.4).
            listed = back.hello.forks if isinstance(message, Fork) and back.hello else ()
            for index, author in enumerate(authors):
                if author not in way.wants and author not in listed:
                    what = "a fork proof" if isinstance(message, Fork) else f"entry {index}"
                    raise way.fault(
                        OutOfScope,
                        f"expected entries and fork proofs of the {len(way.wants)} authors "
                        f"the receiver asked for, found {what} of {_short(author)}",
                    )
        # 5. Repetition.
        if isinstance(message, Fork) and message.proof.author in way.forks:
            raise way.fault(
                UnexpectedMessage,
                f"expected one fork proof per author, found a second for "
                f"{_short(message.proof.author)}",
            )
        # 6. Limits over the session.
        if isinstance(message, Want):
            wanted = len(back.wants | {h.author for h in message.heads})
            if wanted > MAX_WANTED:
                raise way.fault(
                    TooLarge,
                    f"expected at most {MAX_WANTED} wanted authors per session, found {wanted}",
                )

    def _apply(self, way: _Direction, message: Message) -> None:
        """Record ``message``, judged allowed, as having travelled ``way``."""
        back = way.reverse
        if isinstance(message, Hello):
            way.hello = message
            back.wants.update(h.author for h in message.heads)
            way.state = State.SYNCING
        elif isinstance(message, Entries | Batch):
            way.batches += 1
        elif isinstance(message, Fork):
            way.forks.add(message.proof.author)
        elif isinstance(message, Ack):
            # The peer sees our ack only after what we have received so far;
            # we see theirs at once.
            at = self._frames.offset + self._frames.buffered if not way.remote else 0
            back.acknowledge(message.count, at)
        elif isinstance(message, CaughtUp):
            way.state = State.SYNCED
            way.caught_up = True
        else:
            back.wants.update(h.author for h in message.heads)

    # -- receiving ---------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the transport; ``b""`` means the peer closed the stream."""
        if self._error is not None:
            raise self._error
        try:
            self._frames.receive_data(data)
        except ProtocolError as exc:
            raise self._fail(exc) from None

    def next_event(self) -> Event | Signal:
        """The next received message, :data:`NEED_DATA`, or :class:`Closed`.

        Raises a :class:`~samoorg.protocol.errors.RemoteProtocolError`
        subclass for anything the peer got wrong, and keeps raising it.
        """
        if self._error is not None:
            raise self._error
        try:
            start = self._frames.offset
            frame = self._frames.next_frame()
            if frame is NEED_DATA:
                return NEED_DATA
            if frame is END:
                self._theirs.state = State.CLOSED
                return Closed()
            assert isinstance(frame, bytes)
            message = decode_message(frame)
            self._judge(self._theirs, message, start)
        except ProtocolError as exc:
            raise self._fail(exc) from None
        self._apply(self._theirs, message)
        return message

    # -- sending -----------------------------------------------------------------

    def send(self, message: Message) -> bytes:
        """The bytes that carry ``message``; :class:`LocalProtocolError` if not allowed now."""
        if self._error is not None:
            raise self._error
        try:
            self._judge(self._ours, message, 0)
            data = encode_frame(encode_message(message))
        except LocalProtocolError as exc:
            raise self._fail(exc) from None
        self._apply(self._ours, message)
        return data
