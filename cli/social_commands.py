"""Ratings, utility, profit sharing, the forum of ideas and polls.

Commands: ``rate``, ``ratings``, ``utility``, ``distribute``, ``idea post|list|show``,
``comment``, ``poll new|list|show``, ``vote``. Each reads the views of
:mod:`samoorg.crdt.kinds.social` over the local store and the trust list; each
refuses an action that breaks a rule with one line (a RuleViolation). The
writes are the actions of :mod:`samoorg.node.actions` (through the daemon when
one runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from samoorg.cli.community import (
    act,
    hex_prefix,
    load_views,
    now,
    peer_label,
    print_notes,
    resolve_entry,
)
from samoorg.cli.context import Session, session
from samoorg.cli.output import count, format_time, print_json, print_table
from samoorg.cli.paging import (
    DEFAULT_LIMIT,
    AllFlag,
    CursorOption,
    LimitOption,
    Page,
    page_of,
    paging,
    print_next_page,
)
from samoorg.node.api.shapes import (
    idea_detail,
    idea_order,
    idea_summary,
    poll_order,
    rating_rows,
    tally_json,
    utility_rows,
    utility_summary,
)

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.social import SocialViews

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
idea_app = typer.Typer(help="The forum of ideas: post, list, show.", no_args_is_help=True)
poll_app = typer.Typer(
    help="Simple polls: choose a spokesperson by simple vote.", no_args_is_help=True
)
_LABELS = {
    "forum.idea": "idea",
    "forum.comment": "comment",
    "poll.new": "poll",
    "poll.vote": "vote",
}


# -- shared helpers ------------------------------------------------------


def _views(state: Session) -> tuple[Views, SocialViews]:
    """The social views seen from this node: its trust list decides whose voice counts."""
    views = load_views(state)
    return views, views.social(state.me())


def _text_input(body: str | None, file: Path | None) -> str:
    if body is not None and file is not None:
        raise typer.BadParameter("give the text with --body or --file, not both")
    if file is not None:
        return file.read_text(encoding="utf-8")
    return body or ""


# -- ratings, utility, distribution --------------------------------------


def rate(
    ctx: typer.Context,
    subject: Annotated[
        str, typer.Argument(help="A participant id (or unique prefix), or an idea id.")
    ],
    score: Annotated[
        int, typer.Argument(help="0 none, 1 small, 2 some, 3 solid, 4 strong, 5 outstanding.")
    ],
    comment: Annotated[str | None, typer.Option("--comment", help="Why, in a few words.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rate a participant or an idea; your latest rating of a subject replaces earlier ones."""
    from samoorg.crdt.kinds import ratings

    body: dict[str, Any] = {"subject": subject, "score": score}
    if comment:
        body["comment"] = comment
    done = act(session(ctx), "rate", body)
    label = ratings.SCALE_LABELS[score]
    summary = f"rated {done.shape['subject']}: {score}/5 ({label})"
    _report_created(done.shape, as_json, summary)
    print_notes(done)


def _report_created(created: dict[str, Any], as_json: bool, summary: str = "") -> None:
    """:func:`_created` of a record's JSON (as the API answers it)."""
    if as_json:
        print_json(created)
        return
    if summary:
        typer.echo(summary)
    typer.echo(f"{_LABELS.get(created['kind'], created['kind'])} {created['id']}")


def ratings_list(
    ctx: typer.Context,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Every rating that counts: each rater's latest rating of each subject."""
    from samoorg.crdt.kinds.ratings import ABOUT_MEMBER

    state = session(ctx)
    asked = paging(limit, every, cursor)

    def local() -> Page:
        current, views = _views(state)
        return Page(*page_of(rating_rows(current, views), asked))

    page = state.ask(lambda daemon: daemon.page("/ratings", {}, asked), local)
    if as_json:
        print_json(page.as_json())
        return
    names = state.names()
    print_table(
        None,
        ["rater", "about", "subject", "score", "comment", "time (UTC)"],
        [
            (
                peer_label(names, r["rater"]),
                r["about"],
                (
                    peer_label(names, r["subject"])
                    if r["about"] == ABOUT_MEMBER
                    else r["subject"][:12]
                )
                + (" FORKED" if r["forked"] else ""),
                r["score"],
                r["comment"],
                format_time(r["time"]),
            )
            for r in page.items
        ],
    )
    print_next_page(["ratings"], page)


def utility(
    ctx: typer.Context,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Each trust-list member's utility: ratings weighted by the raters' own standing."""
    state = session(ctx)
    asked = paging(limit, every, cursor)

    def local() -> Page:
        _, views = _views(state)
        return Page(*page_of(utility_rows(views), asked), utility_summary(views))

    page = state.ask(lambda daemon: daemon.page("/utility", {}, asked), local)
    if as_json:
        print_json(page.as_json())
        return
    summary = page.extra
    names = state.names()
    print_table(
        None,
        ["member", "utility %", "standing %", "rated by"],
        [
            (peer_label(names, r["id"]), r["utility_percent"], r["standing_percent"], r["raters"])
            for r in page.items
        ],
    )
    converged = "converged" if summary["converged"] else "stopped (not converged)"
    typer.echo(
        f"{count(summary['total'], 'member')}, {count(summary['edges'], 'rating edge')}; "
        f"{converged} after {count(summary['iterations'], 'iteration')} "
        f"(damping {summary['damping']}); see docs/utility.md"
    )
    print_next_page(["utility"], page)


def distribute(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="Amount to share, e.g. 1000 or 99.95.")],
    currency: Annotated[str, typer.Argument(help="ISO 4217 code, e.g. EUR.")],
    org: Annotated[
        str | None,
        typer.Option("--org", help="Among this org's members only (id, 6+ hex digits, or name)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Split AMOUNT among members in proportion to utility (largest remainder, exact).

    With --org, an organization's profit among its members, each by their utility.
    """
    from samoorg.crdt.algorithms.money import Amount
    from samoorg.node.api.shapes import distribute_json

    total = Amount.parse(amount, currency)
    state = session(ctx)
    query = {"amount": amount, "currency": currency, **({"org": org} if org else {})}

    def local() -> dict[str, Any]:
        views, social = _views(state)
        if org is None:
            return distribute_json(social, total)
        from samoorg.node.api.org_shapes import org_distribute_json

        return org_distribute_json(views, social, org, total)

    result = state.ask(lambda daemon: daemon.get("/distribute", query), local)
    if as_json:
        print_json(result)
        return
    print_table(
        None,
        ["member", "utility %", f"share {total.currency}"],
        [
            (peer_label(state.names(), r["id"]), r["utility_percent"], r["share"])
            for r in result["shares"]
        ],
    )
    if "org" in result:
        typer.echo(f"among the members of {result['org_name']} ({result['org'][:12]})")
    # Shares are written with exactly the currency's minor digits: the digits are the minor units.
    check = sum(int(r["share"].replace(".", "")) for r in result["shares"])
    typer.echo(f"total {Amount(total.currency, check).format()} {total.currency}")


def _key_of(ident: str) -> bytes:
    from samoorg.protocol.ids import parse_peer_id

    return parse_peer_id(ident)


# -- forum of ideas -------------------------------------------------------


@idea_app.command("post")
def idea_post(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="One line.")],
    body: Annotated[str | None, typer.Option("--body", help="The idea in full.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the body from a file.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Post an idea to the forum; prints its id."""
    text = _text_input(body, file)
    _report_created(act(session(ctx), "idea.post", {"title": title, "body": text}).shape, as_json)


@idea_app.command("list")
def idea_list(
    ctx: typer.Context,
    sort: Annotated[
        str, typer.Option("--sort", help="utility (standing-weighted support) or recent.")
    ] = "utility",
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List ideas, most supported (or most recent) first."""
    if sort not in {"utility", "recent"}:
        raise typer.BadParameter(f"expected utility or recent, found {sort!r}", param_hint="--sort")
    state = session(ctx)
    asked = paging(limit, every, cursor)

    def local() -> Page:
        _, views = _views(state)
        ids, next_cursor = page_of(idea_order(views, sort), asked)
        return Page([idea_summary(views, idea_id) for idea_id in ids], next_cursor)

    page = state.ask(lambda daemon: daemon.page("/ideas", {"sort": sort}, asked), local)
    if as_json:
        print_json(page.as_json())
        return
    names = state.names()
    print_table(
        None,
        ["id", "title", "author", "support %", "ratings", "avg", "comments", "posted (UTC)"],
        [
            (
                r["id"][:12],
                r["title"],
                peer_label(names, r["author"]),
                r["support_percent"],
                r["ratings"],
                r["average_score"] or "-",
                r["comments"],
                format_time(r["time"]),
            )
            for r in page.items
        ],
    )
    print_next_page(["idea", "list"], page)


@idea_app.command("show")
def idea_show(
    ctx: typer.Context,
    idea_id: Annotated[str, typer.Argument(metavar="ID", help="Idea id or unique prefix.")],
    as_json: JsonFlag = False,
) -> None:
    """Show an idea with its ratings and comments."""
    state = session(ctx)
    names = state.names()
    summary = state.ask(
        lambda daemon: daemon.get(f"/ideas/{quote(idea_id, safe='')}"),
        lambda: _idea(state, idea_id),
    )
    rating_rows, comment_rows = summary["rating_list"], summary["comment_list"]
    if as_json:
        print_json(summary)
        return
    typer.echo(f"{summary['title']}\n")
    typer.echo(f"id       {summary['id']}")
    typer.echo(f"author   {peer_label(names, summary['author'])}")
    typer.echo(f"posted   {format_time(summary['time'])} UTC")
    typer.echo(
        f"support  {summary['support_percent']} % of all standing "
        f"({count(summary['ratings'], 'rating')})"
    )
    if summary["body"]:
        typer.echo(f"\n{summary['body'].rstrip()}\n")
    if rating_rows:
        print_table(
            "ratings",
            ["rater", "score", "comment", "time (UTC)"],
            [
                (peer_label(names, r["rater"]), r["score"], r["comment"], format_time(r["time"]))
                for r in rating_rows
            ],
        )
    if comment_rows:
        print_table(
            "comments",
            ["author", "time (UTC)", "comment"],
            [
                (peer_label(names, r["author"]), format_time(r["time"]), r["text"])
                for r in comment_rows
            ],
        )


def _idea(state: Session, idea_id: str) -> dict[str, Any]:
    """``idea show --json`` computed from the store."""
    from samoorg.crdt.kinds import forum
    from samoorg.node.actions.forum import ignored

    entry = resolve_entry(state, idea_id, forum.IDEA_KIND)
    current, views = _views(state)
    if entry.id not in views.forum.ideas:
        raise ignored(current, entry, "idea")
    return idea_detail(views, entry.id)


def comment(
    ctx: typer.Context,
    idea_id: Annotated[str, typer.Argument(metavar="ID", help="Idea id or unique prefix.")],
    text: Annotated[str, typer.Argument(help="The comment.")],
    as_json: JsonFlag = False,
) -> None:
    """Comment on an idea; prints the comment's id."""
    _report_created(act(session(ctx), "idea.comment", {"text": text}, idea_id).shape, as_json)


# -- polls ------------------------------------------------------------------


@poll_app.command("new")
def poll_new(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question.")],
    option: Annotated[list[str], typer.Option("--option", help="An option (repeat, 2 to 20).")],
    closes: Annotated[
        str | None,
        typer.Option("--closes", help="Closing time: 2026-12-01, 2026-12-01T18:00 (UTC) or 7d."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a poll; prints its id."""
    from samoorg.cli.when import parse_future
    from samoorg.node.api.times import rfc3339

    body: dict[str, Any] = {"question": question, "options": option}
    if closes is not None:
        body["closes"] = rfc3339(parse_future(closes, now(), "a closing time"))
    _report_created(act(session(ctx), "poll.new", body).shape, as_json)


@poll_app.command("list")
def poll_list(
    ctx: typer.Context,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List polls, newest first."""
    state = session(ctx)
    asked = paging(limit, every, cursor)

    def local() -> Page:
        _, views = _views(state)
        ids, next_cursor = page_of(poll_order(views), asked)
        moment = now()
        return Page([tally_json(views.tally(i), moment) for i in ids], next_cursor)

    page = state.ask(lambda daemon: daemon.page("/polls", {}, asked), local)
    if as_json:
        print_json(page.as_json())
        return
    print_table(
        None,
        ["id", "question", "status", "votes", "leading"],
        [
            (
                r["id"][:12],
                r["question"],
                "open" if r["open"] else "closed",
                r["votes_counted"],
                " / ".join(r["leading"]) or "-",
            )
            for r in page.items
        ],
    )
    print_next_page(["poll", "list"], page)


@poll_app.command("show")
def poll_show(
    ctx: typer.Context,
    poll_id: Annotated[str, typer.Argument(metavar="ID", help="Poll id or unique prefix.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a poll's options and the votes of trust-list members."""
    state = session(ctx)
    prefix = hex_prefix(poll_id)

    def local() -> dict[str, Any]:
        from samoorg.crdt.kinds import polls
        from samoorg.node.actions.forum import ignored

        entry = resolve_entry(state, prefix, polls.POLL_KIND)
        current, views = _views(state)
        if entry.id not in views.polls.polls:
            raise ignored(current, entry, "poll")
        return tally_json(views.tally(entry.id), now())

    data = state.ask(lambda daemon: daemon.get(f"/polls/{prefix}"), local)
    if as_json:
        print_json(data)
        return
    typer.echo(data["question"])
    status = "open" if data["open"] else "closed"
    closes = f", closes {format_time(data['closes'])} UTC" if data["closes"] else ""
    typer.echo(f"id {data['id']}  ({status}{closes})")
    print_table(
        None,
        ["#", "option", "votes"],
        [(o["number"], o["option"], o["votes"]) for o in data["options"]],
    )
    leading = " / ".join(data["leading"]) or "no votes yet"
    tie = " (tie)" if len(data["leading"]) > 1 else ""
    counted = count(data["votes_counted"], "trust-list vote")
    typer.echo(f"leading: {leading}{tie}; {counted} counted")
    if data["votes_not_counted"]:
        outside = count(data["votes_not_counted"], "vote")
        typer.echo(f"{outside} from outside the trust list not counted")


def vote(
    ctx: typer.Context,
    poll_id: Annotated[str, typer.Argument(metavar="POLL", help="Poll id or unique prefix.")],
    option: Annotated[str, typer.Argument(help="Option number (1, 2, ...) or its exact text.")],
    as_json: JsonFlag = False,
) -> None:
    """Vote in a poll; a later vote replaces your earlier one until the poll closes."""
    done = act(session(ctx), "poll.vote", {"option": option}, poll_id)
    shape = done.shape
    _report_created(shape, as_json, f"voted {shape['number']} ({shape['option']})")
    print_notes(done)


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.command()(rate)
    app.command("ratings")(ratings_list)
    app.command()(utility)
    app.command()(distribute)
    app.command()(comment)
    app.command()(vote)
    app.add_typer(idea_app, name="idea")
    app.add_typer(poll_app, name="poll")
