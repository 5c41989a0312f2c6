"""Exclusion of forked authors from the social views.

An author flagged by a verified fork proof signed two histories, so no
"latest" of theirs can be trusted. The forum, ratings and polls views ignore
every entry such an author wrote, with :data:`FORKED_REASON`.
"""

from __future__ import annotations

from typing import Final

FORKED_REASON: Final = (
    "author is flagged as forked (a fork proof exists); their entries are excluded"
)
