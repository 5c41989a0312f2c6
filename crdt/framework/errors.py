"""Semantic rule violations: a correctly signed entry that breaks a community rule.

The CLI refuses such an action with the message; a view that receives the
same entry from a peer ignores it and keeps the violation's :attr:`reason`
(``samoorg log --invalid``). The :class:`~samoorg.crdt.framework.reasons.ReasonCode`
is the typed, stable part that state digests hash; the message is for people.
"""

from __future__ import annotations

from samoorg.crdt.framework.reasons import Reason, ReasonCode


class RuleViolation(Exception):
    """An action or entry breaks a rule of the community records.

    ``code`` defaults to :attr:`ReasonCode.MALFORMED`: most violations are
    raised by the field readers while parsing a body.
    """

    def __init__(self, message: str, code: ReasonCode = ReasonCode.MALFORMED) -> None:
        super().__init__(message)
        self.code = code

    @property
    def reason(self) -> Reason:
        """The code with this violation's message as its text."""
        return Reason(self.code, str(self))

    def malformed(self, kind: str) -> Reason:
        """The reason a view keeps for a body of ``kind`` that fails its field rules."""
        return Reason(ReasonCode.MALFORMED, f"malformed {kind}: {self}")


class MalformedInput(RuleViolation):
    """A value typed by the user (an amount, a currency, a date, a duration) cannot be parsed.

    The CLI reports it as bad usage (exit 2), not as a refusal.
    """
