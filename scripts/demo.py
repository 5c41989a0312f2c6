"""``make demo``: five people build a community on five live Samoorg nodes.

Each person has their own home and their own ``samoorg node run`` process on
127.0.0.1 (mDNS off). Every step is a real CLI command in a child process,
typed by one person while all the daemons run. Tables are the CLI's
``--json`` answers printed compactly (names for participant ids, 8-digit
prefixes for entry ids); nothing printed is computed by the demo.

After each act the demo waits until every running node holds the same feed
heads (read from each store every 50 ms, timed from the newest entry), then
confirms with ``samoorg status --digests --json`` of every node that all
views agree. Each wait is bounded (``--timeout``); one that runs out fails
the demo.

The nodes meet only through invite codes, which carry the inviter's
addresses: no bootstrap list, no mDNS. Friends of friends are found through
the trust records (an acceptance names its inviter, an inviter confirms who
accepted) and replicated within the hop limit (docs/networking.md §4.2).
``--mesh`` instead makes every node dial every other one (``--bootstrap``).

The story, one function per act:

1. identities and nodes;                    6. ideas, ratings, utility, a distribution;
2. invites: the trust list and its pool;    7. an agreement co-edited, one node offline;
3. a help request;                          8. everyone accepts it: the members;
4. an initiative reaching its goal;         9. a spokesperson poll;
5. commitments fulfilled by beneficiaries; 10. a bundle to an offline home; verify.

``--keep`` keeps the homes and the daemons' logs (the folder is printed).
Exit code 0 only if every convergence check passed and every daemon stopped
cleanly; 130 on Ctrl-C or SIGTERM, after stopping every daemon.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from shlex import quote
from types import FrameType

from demo_nodes import Community, DemoFailure, Person
from demo_tables import SHORT

NAMES = ("anna", "boris", "chen", "dana", "emil")
RULES = """# Community rules

1. We decide together, in public.
2. Every member may propose a change.
3. Nobody speaks for the community without a vote.
"""
RULES_BY_BORIS = RULES.replace("together, in public", "together, openly, in public")
RULES_BY_CHEN = RULES + "4. Spokespersons are chosen by simple vote, for one year.\n"


def act(number: int, title: str, story: str) -> None:
    """Print an act's heading and what happens in it."""
    print(f"\n== {number}. {title}")
    print(f"   {story}\n")


def start_nodes(c: Community) -> None:
    act(
        1,
        "Five people, five nodes",
        "Each creates an identity (an Ed25519 key; the id is its libp2p peer id) and starts a\n"
        "   node: own home, own process, own port on 127.0.0.1. Nodes know nobody yet: they\n"
        "   meet through invite codes and replicate their scope (own feed, trust list, follows).",
    )
    for person in c.people.values():
        c.text(person, "init")
        person.id = c.json(person, "whoami")["id"]
    c.start(list(c.people.values()))
    rows = [
        {"person": p.name, "id": p.id, "pid": p.node.pid, "address": p.node.addrs[0]}
        for p in c.people.values()
        if p.node is not None
    ]
    print()
    c.table(rows, [("person", "person"), ("participant id", "id"), ("node pid", "pid")])
    for person in c.people.values():
        c.render.name(person.id, person.name)  # from now on, names stand for ids
    print()
    c.table(rows, [("person", "person"), ("node listening on", "address")])
    print()
    c.baseline()


def invite(c: Community) -> None:
    act(
        2,
        "Invites: a trust list by mutual guarantee",
        "'I intend to help you in case of need with 100 EUR and count on reciprocity.'\n"
        "   An invite code carries the inviter's address; the invitee's node dials it.",
    )
    for inviter, invitee, amount, note in (
        ("anna", "boris", 100, "Boris, I have your back"),
        ("anna", "emil", 50, "Welcome, neighbour"),
        ("boris", "chen", 100, "Chen, from the choir"),
        ("boris", "dana", 80, "Dana, for the roof fund"),
    ):
        made = c.say(
            c[inviter],
            f"invite create --amount {amount} --currency EUR --note {quote(note)}",
            show=("invite",),
        )
        c.say(
            c[invitee],
            f"invite accept {made['code']}",
            show=("inviter", "your_guarantee", "edge", "addrs"),
        )
    c.converge("invites accepted")
    print("\n   Chen's trust list: the friend of my friend is my friend.")
    c.table(
        c.json(c["chen"], "trust list --all")["items"],
        [
            ("member", "id"),
            ("distance", "distance"),
            ("chain of contacts", c.render.chain("chain")),
            ("guarantee", "guarantee"),
        ],
    )
    pool = c.json(c["chen"], "trust pool")
    print(f"   {c.render.fields(pool, ('members', 'pool'))} (each member's guarantee counted once)")


def intend(c: Community, target: str, amounts: dict[str, int]) -> dict[str, str]:
    """Each person states an intention of ``amounts[name]`` EUR for ``target``; their ids."""
    made = {}
    for name, amount in amounts.items():
        intention = c.say(
            c[name], f"pledge intend {amount} EUR {target}", show=("id", "amount", "to", "state")
        )
        made[name] = str(intention["id"])[:SHORT]
    return made


def ask_for_help(c: Community) -> dict[str, str]:
    act(
        3,
        "A help request",
        "Dana's roof was damaged in a storm. She asks her trust list for help;\n"
        "   three members state intentions (editable, withdrawable at any time).",
    )
    dana = c["dana"]
    request = c.say(
        dana,
        "request create --amount 300 --currency EUR --reason 'Roof repair after the storm'",
        show=("id", "goal", "status"),
    )
    c.converge("dana's request reached every node")
    pledges = intend(
        c, f"--request {request['id'][:SHORT]}", {"anna": 100, "boris": 120, "emil": 80}
    )
    c.converge("three intentions for dana's request")
    c.table(
        c.json(dana, "request list"),
        [
            ("request", "id"),
            ("from", "author"),
            ("asks", "goal"),
            ("pledged", "pledged"),
            ("committed", "committed"),
            ("reason", "reason"),
        ],
    )
    return pledges


def back_initiative(c: Community) -> str:
    act(
        4,
        "An initiative reaches its goal",
        "Chen proposes a tool library. Members vote with intentions until the goal is\n"
        "   reached; the status is computed from live intentions on every node.",
    )
    chen = c["chen"]
    proposal = c.say(
        chen,
        "initiative propose 'Tool library in the old garage' --goal 400 --currency EUR "
        "--deadline 30d --description 'Shelves, a lending book, and the first twenty tools.'",
        show=("id", "goal", "status"),
    )
    target = f"--initiative {proposal['id'][:SHORT]}"
    c.converge("chen's initiative reached every node")
    backing = intend(c, target, {"anna": 150, "boris": 100, "dana": 100})
    c.converge("three intentions for the initiative")
    columns = [
        ("initiative", "id"),
        ("title", "title"),
        ("goal", "goal"),
        ("pledged", "pledged"),
        ("backers", "backers"),
        ("status", "status"),
    ]
    c.table(c.json(c["emil"], "initiative list"), columns)
    print()
    intend(c, target, {"emil": 60})
    c.converge("emil's intention: the goal is reached")
    c.table(c.json(chen, "initiative list"), columns)
    return backing["anna"]


def commit_and_fulfil(c: Community, for_dana: dict[str, str], for_chen: str) -> None:
    act(
        5,
        "Commitments, fulfilled by their beneficiary",
        "A commitment confirms an intention and can never be withdrawn; only the\n"
        "   beneficiary marks it fulfilled. Samoorg records promises; it never moves money.",
    )
    anna, boris, dana = c["anna"], c["boris"], c["dana"]
    c.say(anna, f"pledge commit {for_dana['anna']} --due 14d", show=("state",))
    c.say(boris, f"pledge commit {for_dana['boris']} --due 14d", show=("state",))
    c.say(anna, f"pledge commit {for_chen} --due 30d", show=("state",))
    c.converge("three commitments")
    c.refused(anna, f"pledge withdraw {for_dana['anna']}")
    c.refused(boris, f"pledge fulfilled {for_dana['anna']}")
    for pledge in (for_dana["anna"], for_dana["boris"]):
        c.say(dana, f"pledge fulfilled {pledge}", show=("from", "amount", "state"))
    c.converge("dana confirmed two commitments")
    print()
    c.table(
        [
            p
            for p in c.json(c["emil"], "pledge list --everyone --all")["items"]
            if p["state"] != "intention"
        ],
        [
            ("pledge", "id"),
            ("from", "from"),
            ("to", "to"),
            ("for", lambda p: p["target"]["kind"]),
            ("amount", "amount"),
            ("state", "state"),
        ],
    )
    print("\n   Outstanding commitments, per pair:")
    ledger = c.json(c["emil"], "ledger")
    c.table(ledger["outstanding"], [("from", "from"), ("owes", "to"), ("amount", "amount")])


def rate_and_share(c: Community) -> None:
    act(
        6,
        "Ideas, ratings, utility and a distribution",
        "Emil posts an idea; members comment and rate ideas and each other (0..5).\n"
        "   Utility weighs each rating by the rater's own standing in the trust list.",
    )
    posted = c.say(
        c["emil"],
        "idea post 'Repair cafe every Saturday' "
        "--body 'Bring what is broken; leave with it fixed.'",
        show=("id",),
    )
    idea = posted["id"][:SHORT]
    c.converge("emil's idea reached every node")
    c.say(c["anna"], f"comment {idea} 'I can bring my soldering station'", show=("id",))
    c.say(c["dana"], f"comment {idea} 'Count me in for the first one'", show=("id",))
    for rater, subject, score in (
        ("anna", idea, 5),
        ("boris", idea, 4),
        ("chen", idea, 4),
        ("dana", "anna", 5),
        ("dana", "boris", 4),
        ("chen", "boris", 4),
        ("emil", "chen", 3),
        ("anna", "dana", 3),
    ):
        # A participant by a unique suffix of their id, an idea by a prefix of its id.
        target = c[subject].id[-SHORT:] if subject in c.people else subject
        c.say(c[rater], f"rate {target} {score}", show=("about", "subject"))
    c.converge("comments and ratings")
    print()
    shown = c.json(c["boris"], f"idea show {idea}")
    support = c.render.fields(shown, ("support_percent", "average_score"))
    print(f"   {shown['title']!r}: {support}")
    c.table(shown["rating_list"], [("rater", "rater"), ("score", "score")])
    c.table(shown["comment_list"], [("comment by", "author"), ("text", "text")])
    print()
    utility = c.json(c["boris"], "utility")
    c.table(
        utility["members"],
        [("member", "id"), ("utility %", "utility_percent"), ("rated by", "raters")],
    )
    print(f"   {c.render.fields(utility, ('algorithm', 'iterations'))}")
    print()
    shares = c.json(c["chen"], "distribute 1000 EUR")
    c.table(
        shares["shares"], [("member", "id"), ("utility %", "utility_percent"), ("share", "share")]
    )


def write_agreement(c: Community) -> str:
    act(
        7,
        "An agreement written together",
        "Anna publishes the rules. Chen's node goes offline; Chen and Boris both edit the\n"
        "   same version. When Chen's node is back, the edits merge on every node.",
    )
    (c.root / "rules.txt").write_text(RULES, encoding="utf-8")
    (c.root / "rules-boris.txt").write_text(RULES_BY_BORIS, encoding="utf-8")
    (c.root / "rules-chen.txt").write_text(RULES_BY_CHEN, encoding="utf-8")
    anna, boris, chen = c["anna"], c["boris"], c["chen"]
    created = c.say(anna, "agreement new 'Community rules' --file rules.txt", show=("version",))
    agreement: str = created["agreement"][:SHORT]
    c.converge("anna's agreement reached every node")
    print(f"   (chen's node stops: exit code {c.stop(chen)})")
    c.say(chen, f"agreement edit {agreement} --file rules-chen.txt", show=("version",))
    c.say(boris, f"agreement edit {agreement} --file rules-boris.txt", show=("version",))
    c.converge("boris's edit, with chen offline")
    c.start([chen])
    print(f"   (chen's node is back, pid {chen.node.pid if chen.node else '?'})")
    c.converge("chen back online: both edits merged")
    c.table(
        c.json(c["dana"], "agreement list"),
        [
            ("agreement", "agreement"),
            ("title", "title"),
            ("version", "version"),
            ("edits", "entries"),
        ],
    )
    c.table(
        c.json(c["dana"], f"agreement blame {agreement}"),
        [("line", "line"), ("last edit by", "author"), ("text", lambda b: b["text"].rstrip())],
    )
    return agreement


def accept_agreement(c: Community, agreement: str) -> None:
    act(8, "Everyone accepts: membership", "Accepting signs the hash of the version one sees.")
    for person in c.people.values():
        c.say(person, f"agreement accept {agreement}", show=("version",))
    c.converge("five acceptances")
    c.table(
        c.json(c["emil"], f"members --agreement {agreement}")["members"],
        [("member", "member"), ("accepted version", "version"), ("status", "status")],
    )


def choose_spokesperson(c: Community) -> None:
    act(
        9,
        "A spokesperson, by simple vote",
        "One vote per trust-list member; a later vote replaces an earlier one.",
    )
    question = "Who speaks for us at the town council?"
    poll = c.say(
        c["dana"],
        f"poll new {quote(question)} --option boris --option chen --closes 7d",
        show=("id",),
    )["id"][:SHORT]
    c.converge("dana's poll reached every node")
    for voter, option in (
        ("anna", "boris"),
        ("boris", "chen"),
        ("chen", "chen"),
        ("dana", "boris"),
        ("emil", "chen"),
        ("emil", "boris"),
    ):
        c.say(c[voter], f"vote {poll} {option}", show=("option",))
    c.converge("six votes, emil changed his mind")
    shown = c.json(c["anna"], f"poll show {poll}")
    c.table(shown["options"], [("#", "number"), ("option", "option"), ("votes", "votes")])
    print(f"   {c.render.fields(shown, ('leading', 'votes_counted'))}")


def carry_offline(c: Community) -> None:
    act(
        10,
        "No network needed: a bundle to an offline machine",
        "Emil exports every feed he holds to a file; an offline home imports it and\n"
        "   shows the same view digests. A damaged file is refused; every node verifies.",
    )
    offline = Person("offline", c.root / "offline")
    c.text(offline, "init")
    c.echo(c["emil"], "export community.bundle")
    c.echo(offline, "import community.bundle")
    whole = (c.root / "community.bundle").read_bytes()
    (c.root / "damaged.bundle").write_bytes(whole[: len(whole) // 2])
    c.refused(offline, "import damaged.bundle")
    c.same_as_network(offline, "the offline copy")
    for person in [*c.people.values(), offline]:
        c.echo(person, "verify")


def shut_down(c: Community) -> None:
    act(11, "Shut down", "SIGTERM to every node: each must exit 0 with no traceback in its log.")
    codes = c.stop_everyone()
    clean = c.logs_clean()
    for name, code in codes.items():
        print(f"   {name:<6} exit code {code}; log {'clean' if clean[name] else 'HAS A TRACEBACK'}")
    if any(codes.values()) or not all(clean.values()):
        raise DemoFailure("a node did not stop cleanly (see its node.log)")


def summary(c: Community, seconds: float) -> bool:
    print("\n== Convergence checks")
    c.table(
        [
            {
                "n": str(n),
                "after": check.label,
                "nodes": check.nodes,
                "entries": check.entries if check.entries >= 0 else "-",
                "seconds": "-" if check.seconds is None else f"{check.seconds:.2f}",
                "result": "passed" if check.passed else "FAILED",
            }
            for n, check in enumerate(c.checks, 1)
        ],
        [
            ("#", "n"),
            ("after", "after"),
            ("nodes", "nodes"),
            ("entries", "entries"),
            ("converged in s", "seconds"),
            ("result", "result"),
        ],
    )
    passed = bool(c.checks) and all(check.passed for check in c.checks)
    verdict = "all passed" if passed else "SOME FAILED"
    print(f"\n   {len(c.checks)} convergence checks, {verdict}; demo ran {seconds:.0f} s")
    return passed


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keep", action="store_true", help="keep the homes and logs")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds each convergence check may take"
    )
    parser.add_argument(
        "--mesh",
        action="store_true",
        help="also make every node dial every other one (--bootstrap), not only inviters",
    )
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, _interrupt)
    began = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="samoorg-demo-"))
    c = Community(root, NAMES, timeout=args.timeout, mesh=args.mesh)
    code = 1
    try:
        start_nodes(c)
        invite(c)
        for_dana = ask_for_help(c)
        for_chen = back_initiative(c)
        commit_and_fulfil(c, for_dana, for_chen)
        rate_and_share(c)
        agreement = write_agreement(c)
        accept_agreement(c, agreement)
        choose_spokesperson(c)
        carry_offline(c)
        shut_down(c)
        code = 0
    except DemoFailure as failure:
        print(f"\ndemo failed: {failure}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ndemo interrupted", file=sys.stderr)
        code = 130
    finally:
        c.stop_everyone()
        if args.keep:
            print(f"\n   homes and logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    passed = summary(c, time.monotonic() - began)
    return code if code or passed else 1


if __name__ == "__main__":
    sys.exit(main())
