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
So one session buffers at most ``credit`` frames of at most 1 MiB. ``Fork``
frames take no credit but each author's proof may cross once per direction.

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
from dataclasses import dataclass
from typing import Final, TypeAlias

from samoorg.protocol.errors import (
    FlowControlError,
    LocalProtocolError,
    OutOfScope,
    ProtocolError,
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


class SyncSession:
    """One replication session; see the module docstring for the rules."""

    def __init__(self) -> None:
        self._frames = FrameDecoder()
        self._error: ProtocolError | None = None
        self._our_state = State.START
        self._their_state = State.START
        self._their_caught_up = False
        self.our_hello: Hello | None = None
        """The hello we sent, once sent."""
        self.their_hello: Hello | None = None
        """The hello we received, once received."""
        self.wanted: set[bytes] = set()
        """Authors we asked for (our hello's heads, then our wants)."""
        self.peer_wants: set[bytes] = set()
        """Authors the peer asked for (its hello's heads, then its wants)."""
        self.unacked = 0
        """Our ``Entries`` frames the peer has not acknowledged yet."""
        self.unanswered = 0
        """Their ``Entries`` frames we have not acknowledged yet."""
        self.forks_sent: set[bytes] = set()
        self.forks_received: set[bytes] = set()

    # -- state -----------------------------------------------------------------

    @property
    def our_state(self) -> State:
        """Our direction's state (ERROR once anything failed)."""
        return State.ERROR if self._error else self._our_state

    @property
    def their_state(self) -> State:
        """Their direction's state (ERROR once anything failed)."""
        return State.ERROR if self._error else self._their_state

    @property
    def error(self) -> ProtocolError | None:
        """The error that put the session in its error state, if any."""
        return self._error

    @property
    def live(self) -> bool:
        """Whether both hellos asked to stay live after catch-up."""
        ours, theirs = self.our_hello, self.their_hello
        return ours is not None and theirs is not None and ours.live and theirs.live

    @property
    def their_caught_up(self) -> bool:
        """Whether the peer has sent ``CaughtUp`` (it stays true after they close)."""
        return self._their_caught_up

    @property
    def send_credit(self) -> int:
        """How many ``Entries`` frames we may send right now."""
        if self.their_hello is None:
            return 0
        return self.their_hello.credit - self.unacked

    @property
    def caught_up(self) -> bool:
        """Catch-up is over both ways: both sent ``CaughtUp`` and the peer acked all we sent."""
        return (
            self._error is None
            and self._our_state is State.SYNCED
            and self._their_caught_up
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
            frame = self._frames.next_frame()
            if frame is NEED_DATA:
                return NEED_DATA
            if frame is END:
                self._their_state = State.CLOSED
                return Closed()
            assert isinstance(frame, bytes)
            message = decode_message(frame)
            self._on_receive(message)
        except ProtocolError as exc:
            raise self._fail(exc) from None
        return message

    def _on_receive(self, message: Received) -> None:
        state = self._their_state
        name = type(message).__name__
        if state is State.START:
            if not isinstance(message, Hello):
                raise UnexpectedMessage(f"expected Hello as the first message, found {name}")
            self.their_hello = message
            self.peer_wants.update(h.author for h in message.heads)
            self._their_state = State.SYNCING
            return
        if isinstance(message, Hello):
            raise UnexpectedMessage("expected one Hello per session, found a second")
        if isinstance(message, Batch):
            if state is not State.SYNCING and not self.live:
                raise UnexpectedMessage(
                    "expected no Entries after CaughtUp in a one-shot session, found some"
                )
            credit = self.our_hello.credit if self.our_hello else 0
            if self.unanswered >= credit:
                raise FlowControlError(
                    f"expected at most {credit} unacknowledged Entries frames, found one more"
                )
            for entry in message.entries:
                if entry.author not in self.wanted:
                    raise OutOfScope(
                        f"expected entries of the {len(self.wanted)} authors we asked for, "
                        f"found {_short(entry.author)}#{entry.seq}"
                    )
            self.unanswered += 1
        elif isinstance(message, Fork):
            author = message.proof.author
            if author not in self.wanted:
                raise OutOfScope(
                    f"expected fork proofs of authors we asked for, found {_short(author)}"
                )
            if author in self.forks_received:
                raise UnexpectedMessage(
                    f"expected one fork proof per author, found a second for {_short(author)}"
                )
            self.forks_received.add(author)
        elif isinstance(message, Ack):
            if message.count > self.unacked:
                raise FlowControlError(
                    f"expected an ack of at most {self.unacked} frames, found {message.count}"
                )
            self.unacked -= message.count
        elif isinstance(message, CaughtUp):
            if state is not State.SYNCING:
                raise UnexpectedMessage("expected one CaughtUp per session, found a second")
            self._their_state = State.SYNCED
            self._their_caught_up = True
        else:
            if not self.live:
                raise UnexpectedMessage("expected Want only when both hellos said live, found one")
            self.peer_wants.update(h.author for h in message.heads)
            if len(self.peer_wants) > MAX_WANTED:
                raise TooLarge(
                    f"expected at most {MAX_WANTED} wanted authors per session, "
                    f"found {len(self.peer_wants)}"
                )

    # -- sending -----------------------------------------------------------------

    def send(self, message: Message) -> bytes:
        """The bytes that carry ``message``; :class:`LocalProtocolError` if not allowed now."""
        if self._error is not None:
            raise self._error
        try:
            self._check_send(message)
            data = encode_frame(encode_message(message))
        except LocalProtocolError as exc:
            raise self._fail(exc) from None
        self._on_sent(message)
        return data

    def _check_send(self, message: Message) -> None:
        state = self._our_state
        name = type(message).__name__
        if state is State.START:
            if not isinstance(message, Hello):
                raise LocalProtocolError(f"expected to send Hello first, found {name}")
            return
        if isinstance(message, Hello):
            raise LocalProtocolError("expected one Hello per session, found a second")
        if isinstance(message, Ack):
            if message.count > self.unanswered:
                raise LocalProtocolError(
                    f"expected to ack at most {self.unanswered} frames, found {message.count}"
                )
            return
        if self.their_hello is None:
            raise LocalProtocolError(f"expected the peer's Hello before sending {name}")
        if isinstance(message, Entries | Batch):
            if state is State.SYNCED and not self.live:
                raise LocalProtocolError("expected no Entries after CaughtUp in a one-shot session")
            if self.send_credit <= 0:
                raise LocalProtocolError(
                    f"expected credit to send Entries, found all {self.their_hello.credit} in use"
                )
        elif isinstance(message, Fork):
            author = message.proof.author
            if author not in self.peer_wants:
                raise LocalProtocolError(
                    f"expected fork proofs of authors the peer wants, found {_short(author)}"
                )
            if author in self.forks_sent:
                raise LocalProtocolError(f"expected one fork proof per author for {_short(author)}")
        elif isinstance(message, CaughtUp):
            if state is not State.SYNCING:
                raise LocalProtocolError("expected to send CaughtUp once")
        elif not self.live:
            raise LocalProtocolError("expected Want only when both hellos said live")
        elif len(self.wanted | {h.author for h in message.heads}) > MAX_WANTED:
            raise LocalProtocolError(f"expected at most {MAX_WANTED} wanted authors per session")

    def _on_sent(self, message: Message) -> None:
        if isinstance(message, Hello):
            self.our_hello = message
            self.wanted.update(h.author for h in message.heads)
            self._our_state = State.SYNCING
        elif isinstance(message, Entries | Batch):
            self.unacked += 1
        elif isinstance(message, Fork):
            self.forks_sent.add(message.proof.author)
        elif isinstance(message, Ack):
            self.unanswered -= message.count
        elif isinstance(message, CaughtUp):
            self._our_state = State.SYNCED
        else:
            self.wanted.update(h.author for h in message.heads)
