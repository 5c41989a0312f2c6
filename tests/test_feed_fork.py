"""Feed validation and fork proofs (both forms), including tampered proofs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry, create_entry
from samoorg.protocol.errors import (
    BadForkProof,
    BrokenBacklink,
    ForkDetected,
    RemoteProtocolError,
    WrongSequence,
)
from samoorg.protocol.feed import FeedHead, Placement, check_extends
from samoorg.protocol.fork import (
    FORK_PROOF_TAG,
    MAX_FORK_PROOF_DEPTH,
    MAX_FORK_PROOF_SIZE,
    ForkProof,
)
from tests.feed_fixtures import flip_bit, make_feed, prefixes, signer


def _held(feed: list[Entry]) -> Callable[[int], Entry | None]:
    return lambda seq: feed[seq - 1] if 1 <= seq <= len(feed) else None


def _head(entry: Entry) -> FeedHead:
    return FeedHead(entry.author, entry.seq, entry.id)


def _other_branch(feed: list[Entry], at: int) -> Entry:
    """A different, validly signed entry at seq ``at`` (the author forks)."""
    prev = feed[at - 2].id if at > 1 else None
    return create_entry(
        signer("alice"), seq=at, prev=prev, timestamp=42, kind="post", body={"fork": True}
    )


def test_check_extends_classifies() -> None:
    feed = make_feed(signer("alice"), 3)
    held = _held(feed)
    assert check_extends(None, feed[0], held) is Placement.NEXT
    assert check_extends(_head(feed[0]), feed[1], held) is Placement.NEXT
    assert check_extends(_head(feed[2]), feed[1], held) is Placement.DUPLICATE
    with pytest.raises(WrongSequence, match="seq 1"):
        check_extends(None, feed[1], held)
    with pytest.raises(WrongSequence, match="gap"):
        check_extends(_head(feed[0]), feed[2], held)


def test_same_seq_fork_yields_a_proof() -> None:
    feed = make_feed(signer("alice"), 3)
    other = _other_branch(feed, 2)
    with pytest.raises(ForkDetected) as caught:
        check_extends(_head(feed[2]), other, _held(feed))
    proof = caught.value.proof
    a, b = proof.verify()
    assert {a.id, b.id} == {feed[1].id, other.id}
    assert ForkProof.from_bytes(proof.to_bytes()) == proof


def test_backlink_fork_yields_a_proof() -> None:
    feed = make_feed(signer("alice"), 2)
    other_second = _other_branch(feed, 2)
    third_on_other = create_entry(
        signer("alice"), seq=3, prev=other_second.id, timestamp=43, kind="post", body={}
    )
    with pytest.raises(BrokenBacklink) as caught:
        check_extends(_head(feed[1]), third_on_other, _held(feed))
    proof = caught.value.proof
    assert proof is not None
    a, b = proof.verify()
    assert (a.seq, b.seq) == (2, 3)
    assert b.prev != a.id
    assert ForkProof.from_bytes(proof.to_bytes()) == proof


def _proofs() -> tuple[ForkProof, ForkProof]:
    feed = make_feed(signer("alice"), 2)
    other = _other_branch(feed, 2)
    third = create_entry(signer("alice"), seq=3, prev=other.id, timestamp=43, kind="p", body={})
    return ForkProof.of(feed[1], other), ForkProof.of(third, feed[1])


def test_proof_order_is_canonical() -> None:
    same_seq, backlink = _proofs()
    assert ForkProof.of(*reversed(same_seq.verify())) == same_seq
    assert backlink.verify()[0].seq == 2
    with pytest.raises(BadForkProof, match="canonical order"):
        ForkProof(same_seq.b, same_seq.a).verify()


def test_non_proofs_are_rejected() -> None:
    alice_feed = make_feed(signer("alice"), 3)
    bob_feed = make_feed(signer("bob"), 1)
    cases = {
        "same entry twice": ForkProof(alice_feed[0].raw, alice_feed[0].raw),
        "consistent neighbours": ForkProof(alice_feed[0].raw, alice_feed[1].raw),
        "two authors": ForkProof.of(alice_feed[0], bob_feed[0]),
        "seq distance 2": ForkProof(alice_feed[0].raw, alice_feed[2].raw),
        "garbage": ForkProof(b"\x00", alice_feed[0].raw),
    }
    for proof in cases.values():
        with pytest.raises(BadForkProof):
            proof.verify()
        with pytest.raises(BadForkProof):
            ForkProof.from_bytes(proof.to_bytes())


def test_tampered_proofs_are_rejected() -> None:
    for proof in _proofs():
        wire = proof.to_bytes()
        for bit in range(0, len(wire) * 8, 3):
            with pytest.raises(RemoteProtocolError):
                ForkProof.from_bytes(flip_bit(wire, bit))
        for part in prefixes(wire)[:: max(1, len(wire) // 97)]:
            with pytest.raises(BadForkProof):
                ForkProof.from_bytes(part)
        with pytest.raises(BadForkProof, match="shape"):
            ForkProof.from_bytes(dcbor.encode(["samoorg/fork-proof/v2", proof.a, proof.b]))
        with pytest.raises(BadForkProof, match="shape"):
            ForkProof.from_bytes(dcbor.encode([FORK_PROOF_TAG, proof.a]))


def test_oversized_and_deep_proofs_are_bad_fork_proofs() -> None:
    """§4.3: a proof over its size or depth limit is BadForkProof, like any other non-proof."""
    same_seq, _ = _proofs()
    wire = same_seq.to_bytes()
    padded = dcbor.encode([FORK_PROOF_TAG, same_seq.a, same_seq.b + bytes(MAX_FORK_PROOF_SIZE)])
    assert len(padded) > MAX_FORK_PROOF_SIZE
    with pytest.raises(BadForkProof, match=f"at most {MAX_FORK_PROOF_SIZE} bytes"):
        ForkProof.from_bytes(padded)
    # A proof has depth 2 (the array and its items): one level more is refused.
    assert MAX_FORK_PROOF_DEPTH == 2
    with pytest.raises(BadForkProof, match="nesting"):
        ForkProof.from_bytes(dcbor.encode([FORK_PROOF_TAG, [same_seq.a], same_seq.b]))
    deep = b"\x81" * (dcbor.MAX_DEPTH + 4) + wire  # [[[...proof...]]], 20 levels
    with pytest.raises(BadForkProof, match="nesting"):
        ForkProof.from_bytes(deep)


@given(st.binary(max_size=200))
def test_any_bytes_are_a_proof_or_bad_fork_proof(data: bytes) -> None:
    try:
        ForkProof.from_bytes(data)
    except BadForkProof:
        return
    pytest.fail("random bytes proved a fork")  # pragma: no cover
