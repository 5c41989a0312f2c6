"""Semantic rule violations: a correctly signed entry that breaks a community rule.

The CLI refuses such an action with the message; a view that receives the
same entry from a peer ignores it and keeps the message as the reason
(``samoorg log --invalid``).
"""

from __future__ import annotations


class RuleViolation(Exception):
    """An action or entry breaks a rule of the community records."""
