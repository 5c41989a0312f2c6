"""The web organizer's parts without a browser: messages, language, sessions, money, graph."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from samoorg.crdt.kinds.inbox import ActionKind
from samoorg.crdt.kinds.trust import ACCEPTED, PENDING, REVOKED, VOID, WAITING
from samoorg.node.web import graph
from samoorg.node.web.i18n import LANGUAGES, catalogue, choose, plural_form, translate
from samoorg.node.web.render import amount, money
from samoorg.node.web.sessions import LINK_TTL, MAX_SESSIONS, SESSION_TTL, WebSessions
from samoorg.node.web.site import NAV

WEB = Path(str(resources.files("samoorg.node.web")))
KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_]+)["']""")


def test_both_languages_have_the_same_messages() -> None:
    en, ru = catalogue("en"), catalogue("ru")
    assert set(en) == set(ru)
    for key, value in en.items():
        other = ru[key]
        if isinstance(value, str):
            assert isinstance(other, str), key
            assert re.findall(r"{(\w+)}", value) == re.findall(r"{(\w+)}", other), key
        else:
            assert set(value) == {"one", "other"}, key
            assert not isinstance(other, str), key
            assert set(other) == {"one", "few", "many"}, key


def test_every_message_named_exists() -> None:
    used: set[str] = set()
    for path in [*WEB.rglob("*.html"), *(WEB / "pages").glob("*.py")]:
        # A key ending in "_" is a prefix completed from a value (listed below).
        used |= {k for k in KEY.findall(path.read_text(encoding="utf-8")) if not k.endswith("_")}
    # Keys made from values: the navigation, inbox kinds, invite states and directions.
    used |= {entry.label for entry in NAV}
    used |= {"home.session_inbound", "home.session_outbound"}
    used |= {f"home.kind_{kind.value}" for kind in ActionKind}
    used |= {f"trust.state_{s}" for s in (PENDING, ACCEPTED, REVOKED, VOID, WAITING, "expired")}
    used |= {"trust.direction_sent", "trust.direction_accepted"}
    used |= {f"common.lang_{lang}" for lang in LANGUAGES}
    assert len(used) > 50
    for lang in LANGUAGES:
        missing = sorted(used - set(catalogue(lang)))
        assert not missing, (lang, missing)


@pytest.mark.parametrize(
    ("n", "form"), [(1, "one"), (2, "few"), (5, "many"), (11, "many"), (21, "one"), (22, "few")]
)
def test_russian_plurals(n: int, form: str) -> None:
    assert plural_form("ru", n) == form


def test_plural_messages() -> None:
    assert translate("en", "common.members", n=1) == "1 member"
    assert translate("en", "common.members", n=2) == "2 members"
    assert translate("ru", "common.members", n=3) == "3 участника"
    assert translate("ru", "common.members", n=25) == "25 участников"


@pytest.mark.parametrize(
    ("cookie", "header", "lang"),
    [
        (None, None, "en"),
        (None, "ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        (None, "de-DE,en;q=0.5,ru;q=0.7", "ru"),
        (None, "fr, de", "en"),
        ("en", "ru", "en"),
        ("xx", "ru", "ru"),
        (None, "ru;q=oops, en", "en"),
    ],
)
def test_language_choice(cookie: str | None, header: str | None, lang: str) -> None:
    assert choose(cookie, header) == lang


def test_a_login_link_works_once_and_expires() -> None:
    now = [1000.0]
    sessions = WebSessions(clock=lambda: now[0])
    link = sessions.issue()
    session = sessions.redeem(link)
    assert session is not None
    assert sessions.redeem(link) is None
    assert sessions.find(session.sid) is session
    assert sessions.find("x" + session.sid) is None
    late = sessions.issue()
    now[0] += LINK_TTL + 1
    assert sessions.redeem(late) is None
    now[0] += SESSION_TTL + 1
    assert sessions.find(session.sid) is None


def test_sessions_are_bounded() -> None:
    sessions = WebSessions()
    opened = [sessions.redeem(sessions.issue()) for _ in range(MAX_SESSIONS + 5)]
    assert all(s is not None for s in opened)
    assert sessions.find(opened[0].sid) is None  # type: ignore[union-attr]
    assert sessions.find(opened[-1].sid) is not None  # type: ignore[union-attr]


def test_amounts_are_major_units_with_the_currency() -> None:
    assert money({"EUR": "100.00", "JPY": "5"}) == "100.00 EUR, 5 JPY"
    assert money({}) == "—"
    assert amount(12345, "EUR") == "123.45 EUR"
    assert amount(7, "KWD") == "0.007 KWD"


def _rows(count: int) -> list[dict[str, object]]:
    """A trust list: me, 10 friends, and friends of friends below them."""
    rows: list[dict[str, object]] = [{"id": "me", "distance": 0, "chain": ["me"]}]
    for i in range(count - 1):
        if i < 10:
            rows.append({"id": f"f{i}", "distance": 1, "chain": ["me", f"f{i}"]})
        else:
            parent = f"f{i % 10}"
            rows.append({"id": f"m{i}", "distance": 2, "chain": ["me", parent, f"m{i}"]})
    return rows


def test_the_graph_places_members_on_rings_by_hop() -> None:
    rows = _rows(500)
    dots = graph.layout(rows)
    assert len(dots) == 500
    centre = graph.SIZE / 2
    radii: dict[int, set[int]] = {}
    for dot in dots.values():
        assert 0 <= dot.x <= graph.SIZE
        assert 0 <= dot.y <= graph.SIZE
        radius = round(((dot.x - centre) ** 2 + (dot.y - centre) ** 2) ** 0.5)
        radii.setdefault(dot.hop, set()).add(radius)
    assert radii[0] == {0}
    assert len(radii[1]) == 1
    assert len(radii[2]) == 1
    assert min(radii[2]) > min(radii[1])
    assert len({(round(d.x), round(d.y)) for d in dots.values()}) == 500


def test_the_graph_svg_escapes_and_marks_help() -> None:
    rows = [*_rows(3), {"id": '<x">', "distance": 1, "chain": ["me", '<x">']}]
    labels = {"title": "T", "me": "me", "helped": "help", "hops": "hops: {n}"}
    svg = str(graph.svg(rows, [("me", "f0"), ("me", '<x">')], frozenset({"f1"}), labels))
    assert '<x">' not in svg
    assert "&lt;x&#34;&gt;" in svg
    assert svg.count('class="dot helped"') == 1
    assert svg.count("<line") == 2


def test_a_participant_is_shown_by_name_escaped_and_linked() -> None:
    from samoorg.node.names import Names, short_id
    from samoorg.node.web.render import environment
    from samoorg.protocol.ids import peer_id
    from tests.community_fixtures import Author

    me, ana, bad, twin = (Author(n).key for n in (1, 2, 3, 4))
    names = Names(me, {ana: "Ana"}, {bad: "<b>x</b>", twin: "<B>X</B>", ana: "Anna"})
    template = environment().from_string("{{ who|who }}|{{ who|label }}|{{ e|entry }}")

    def shown(key: bytes) -> str:
        t = {"common.you": "you"}.get
        return template.render(who=peer_id(key), names=names, t=t, e="ab" * 32)

    assert shown(me) == (
        f'<a class="who you" href="/profiles/{peer_id(me)}" title="{peer_id(me)}">'
        f"<strong>you</strong></a>|you|{'ab' * 6}"
    )
    assert shown(ana).startswith(f'<a class="who" href="/profiles/{peer_id(ana)}"')
    assert f">Ana {short_id(ana)}</a>|Ana {short_id(ana)}|" in shown(ana)
    # A self-chosen name is marked ~, a name two carry is marked !, and both are escaped.
    hostile = shown(bad)
    assert '<a class="who collides"' in hostile
    assert f">~&lt;b&gt;x&lt;/b&gt;! {short_id(bad)}</a>" in hostile
    assert "<b>" not in hostile
