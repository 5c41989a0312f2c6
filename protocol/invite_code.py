"""Invite codes and the one-time key that proves knowledge of an invite's secret.

Theory of operation (``docs/protocol.md`` §8.2 is normative):

* The inviter draws a 16-byte random ``secret``. From it both sides derive a
  one-time Ed25519 key pair: ``seed = SHA-256("samoorg/invite-key/v1\\0" ||
  secret)``. The ``trust.invite`` entry records only the one-time *public*
  key: a one-way commitment to the secret.
* The invitee proves knowledge of the secret without revealing it: the
  ``trust.accept`` entry carries ``proof = Ed25519(one-time key,
  "samoorg/invite-accept/v1\\0" || invite id || invitee key)``. The proof is
  bound to the invitee's own key, so whoever sees an acceptance cannot
  replay it under another identity (no front-running), and the secret never
  appears in any feed.
* The code the inviter passes on (by any private channel) is one line::

      samoorg-invite:<base58btc( dcbor(payload) || SHA-256(dcbor(payload))[:4] )>

  with ``payload = {"inviter": 32-byte key, "invite": 32-byte entry id,
  "secret": 16 bytes, "expires": ms, "amount": minor units, "currency": code,
  "addrs": [multiaddr text, ...]}``. The 4-byte checksum catches copy-paste
  damage before anything else is looked at.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from samoorg.protocol import dcbor
from samoorg.protocol.crypto import Signer, digest, verify
from samoorg.protocol.errors import RemoteProtocolError
from samoorg.protocol.ids import BadIdentifier, b58decode, b58encode

CODE_PREFIX: Final = "samoorg-invite:"
SECRET_SIZE: Final = 16
KEY_DOMAIN: Final = b"samoorg/invite-key/v1\x00"
PROOF_DOMAIN: Final = b"samoorg/invite-accept/v1\x00"
MAX_CODE_LENGTH: Final = 4096
MAX_ADDRS: Final = 16
MAX_ADDR_LENGTH: Final = 256
_CHECKSUM: Final = 4


class BadInviteCode(RemoteProtocolError):
    """Text given as an invite code is not one (damaged, truncated, or another format)."""


@dataclass(frozen=True, slots=True)
class InviteCode:
    """The decoded contents of an invite code."""

    inviter: bytes
    invite: bytes
    secret: bytes
    expires: int
    amount: int
    currency: str
    addrs: tuple[str, ...] = ()

    def format(self) -> str:
        """The one-line, copy-pasteable text of this code."""
        payload: dict[str, dcbor.Value] = {
            "inviter": self.inviter,
            "invite": self.invite,
            "secret": self.secret,
            "expires": self.expires,
            "amount": self.amount,
            "currency": self.currency,
            "addrs": list(self.addrs),
        }
        return encode_code(CODE_PREFIX, payload)


def new_secret() -> bytes:
    """A fresh invite secret from the operating system's CSPRNG."""
    return secrets.token_bytes(SECRET_SIZE)


def one_time_signer(secret: bytes, domain: bytes = KEY_DOMAIN) -> Signer:
    """The one-time key pair derived from an invite secret (or a device code's, by ``domain``)."""
    return Signer(digest(domain + secret))


def one_time_key(secret: bytes, domain: bytes = KEY_DOMAIN) -> bytes:
    """The one-time public key (the commitment recorded in ``trust.invite``)."""
    return one_time_signer(secret, domain).public_key


def sign_acceptance(
    secret: bytes,
    invite_id: bytes,
    invitee: bytes,
    domains: tuple[bytes, bytes] = (KEY_DOMAIN, PROOF_DOMAIN),
) -> bytes:
    """The acceptance proof: the one-time key's signature over (invite id, invitee key).

    ``domains`` are the key and proof domains (another pair for device codes).
    """
    key_domain, proof_domain = domains
    return one_time_signer(secret, key_domain).sign(proof_domain + invite_id + invitee)


def verify_acceptance(
    key: bytes, invite_id: bytes, invitee: bytes, proof: bytes, proof_domain: bytes = PROOF_DOMAIN
) -> None:
    """Raise :class:`~samoorg.protocol.errors.BadSignature` unless ``proof`` is valid."""
    verify(key, proof_domain + invite_id + invitee, proof)


def _bytes(payload: dict[str, dcbor.Value], key: str, size: int) -> bytes:
    value = payload.get(key)
    if type(value) is not bytes or len(value) != size:
        raise BadInviteCode(f"expected {key!r} as a {size}-byte string in the invite code")
    return value


def _int(payload: dict[str, dcbor.Value], key: str) -> int:
    value = payload.get(key)
    if type(value) is not int or value < 0:
        raise BadInviteCode(f"expected {key!r} as an unsigned integer in the invite code")
    return value


def _addrs(payload: dict[str, dcbor.Value]) -> tuple[str, ...]:
    value = payload.get("addrs")
    if type(value) is not list or len(value) > MAX_ADDRS:
        raise BadInviteCode(f"expected 'addrs' as a list of at most {MAX_ADDRS} multiaddrs")
    addrs: list[str] = []
    for item in value:
        if type(item) is not str or not item.startswith("/") or len(item) > MAX_ADDR_LENGTH:
            raise BadInviteCode(f"expected multiaddr text such as /ip4/…/tcp/…, found {item!r:.60}")
        addrs.append(item)
    return tuple(addrs)


def encode_code(prefix: str, payload: dict[str, dcbor.Value]) -> str:
    """``prefix`` + base58btc(dcbor(payload) || SHA-256(dcbor(payload))[:4])."""
    data = dcbor.encode(payload)
    return prefix + b58encode(data + digest(data)[:_CHECKSUM])


def decode_code(text: str, prefix: str, what: str) -> dict[str, dcbor.Value]:
    """The payload map of a code made by :func:`encode_code`; :class:`BadInviteCode` otherwise."""
    code = "".join(text.split())
    if len(code) > MAX_CODE_LENGTH:
        raise BadInviteCode(f"expected an {what} of at most {MAX_CODE_LENGTH} characters")
    if not code.startswith(prefix):
        raise BadInviteCode(f"expected an {what} starting {prefix!r}, found {code[:20]!r}")
    try:
        raw = b58decode(code[len(prefix) :])
    except BadIdentifier:
        raise BadInviteCode(f"the {what} is damaged: it is not base58 text") from None
    payload_bytes, checksum = raw[:-_CHECKSUM], raw[-_CHECKSUM:]
    if len(raw) <= _CHECKSUM or digest(payload_bytes)[:_CHECKSUM] != checksum:
        raise BadInviteCode(f"the {what} is damaged: its checksum does not match")
    try:
        payload = dcbor.decode(payload_bytes, max_size=MAX_CODE_LENGTH)
    except RemoteProtocolError as exc:
        raise BadInviteCode(f"the {what} does not decode: {exc}") from None
    if type(payload) is not dict:
        raise BadInviteCode(f"expected a map inside the {what}")
    return payload


def parse_invite_code(text: str) -> InviteCode:
    """Decode an invite code; its ``addrs`` are the inviter's network addresses.

    Raises :class:`BadInviteCode` (and nothing else) for any text that is not
    a well-formed code with a correct checksum.
    """
    payload = decode_code(text, CODE_PREFIX, "invite code")
    currency = payload.get("currency")
    if type(currency) is not str or len(currency) != 3:
        raise BadInviteCode("expected 'currency' as a 3-letter code in the invite code")
    return InviteCode(
        inviter=_bytes(payload, "inviter", 32),
        invite=_bytes(payload, "invite", 32),
        secret=_bytes(payload, "secret", SECRET_SIZE),
        expires=_int(payload, "expires"),
        amount=_int(payload, "amount"),
        currency=currency,
        addrs=_addrs(payload),
    )
