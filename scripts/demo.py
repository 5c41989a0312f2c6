"""``make demo``: five people build a community on five live Samoorg nodes.

Each person has their own home and their own ``samoorg node run`` process on
127.0.0.1 (mDNS off). Every step is a real CLI command in a child process,
typed by one person while all the daemons run, and shown with exactly what
it printed: the CLI's own lines and tables. The demo adds only its headings
and its convergence reports.

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

1. identities and nodes;                    7. an agreement co-edited, one node offline;
2. invites: the trust list and its pool;    8. everyone accepts it: the members;
3. a help request;                          9. a spokesperson poll;
4. an initiative reaching its goal;        10. the portal: an offer, a deal, reviews;
5. commitments fulfilled by beneficiaries; 11. the web organizer: anna's dashboard URL;
6. ideas, ratings, utility, a distribution; 12. a bundle to an offline home; verify.

``--keep`` keeps the homes and the daemons running: each daemon is stopped
(it must exit 0) and started again in a session of its own on the address it
had, the URL of anna's dashboard is printed, and the commands that stop the
nodes (``samoorg --home HOME node stop``) are listed.
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

from demo_nodes import INVITE_CODE, SHORT, Community, DemoFailure, Person

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
        c.run(person, "init")
        person.id = c.run(person, "whoami").strip()
    c.start(list(c.people.values()))
    print()
    for person in c.online:
        if person.node is not None:
            print(f"   ({person.name}'s node: pid {person.node.pid}, {person.node.addrs[0]})")
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
        made = c.run(
            c[inviter], f"invite create --amount {amount} --currency EUR --note {quote(note)}"
        )
        code = INVITE_CODE.search(made)
        if code is None:
            raise DemoFailure(f"invite create printed no invite code: {made!r}")
        c.run(c[invitee], f"invite accept {code.group()}")
    c.converge("invites accepted")
    print("\n   Chen's trust list: the friend of my friend is my friend.")
    c.run(c["chen"], "trust list --all")
    c.run(c["chen"], "trust pool")


def intend(c: Community, target: str, amounts: dict[str, int]) -> dict[str, str]:
    """Each person states an intention of ``amounts[name]`` EUR for ``target``; their ids."""
    return {
        name: c.made(c[name], f"pledge intend {amount} EUR {target}")[:SHORT]
        for name, amount in amounts.items()
    }


def ask_for_help(c: Community) -> dict[str, str]:
    act(
        3,
        "A help request",
        "Dana's roof was damaged in a storm. She asks her trust list for help;\n"
        "   three members state intentions (editable, withdrawable at any time).",
    )
    dana = c["dana"]
    request = c.made(
        dana, "request create --amount 300 --currency EUR --reason 'Roof repair after the storm'"
    )
    c.converge("dana's request reached every node")
    pledges = intend(c, f"--request {request[:SHORT]}", {"anna": 100, "boris": 120, "emil": 80})
    c.converge("three intentions for dana's request")
    c.run(dana, "request list")
    return pledges


def back_initiative(c: Community) -> str:
    act(
        4,
        "An initiative reaches its goal",
        "Chen proposes a tool library. Members vote with intentions until the goal is\n"
        "   reached; the status is computed from live intentions on every node.",
    )
    chen = c["chen"]
    proposal = c.made(
        chen,
        "initiative propose 'Tool library in the old garage' --goal 400 --currency EUR "
        "--deadline 30d --description 'Shelves, a lending book, and the first twenty tools.'",
    )
    target = f"--initiative {proposal[:SHORT]}"
    c.converge("chen's initiative reached every node")
    backing = intend(c, target, {"anna": 150, "boris": 100, "dana": 100})
    c.converge("three intentions for the initiative")
    c.run(c["emil"], "initiative list")
    print()
    intend(c, target, {"emil": 60})
    c.converge("emil's intention: the goal is reached")
    c.run(chen, f"initiative show {proposal[:SHORT]}")
    return backing["anna"]


def commit_and_fulfil(c: Community, for_dana: dict[str, str], for_chen: str) -> None:
    act(
        5,
        "Commitments, fulfilled by their beneficiary",
        "A commitment confirms an intention and can never be withdrawn; only the\n"
        "   beneficiary marks it fulfilled. Samoorg records promises; it never moves money.",
    )
    anna, boris, dana = c["anna"], c["boris"], c["dana"]
    c.run(anna, f"pledge commit {for_dana['anna']} --due 14d")
    c.run(boris, f"pledge commit {for_dana['boris']} --due 14d")
    c.run(anna, f"pledge commit {for_chen} --due 30d")
    c.converge("three commitments")
    c.refused(anna, f"pledge withdraw {for_dana['anna']}")
    c.refused(boris, f"pledge fulfilled {for_dana['anna']}")
    for pledge in (for_dana["anna"], for_dana["boris"]):
        c.run(dana, f"pledge fulfilled {pledge}")
    c.converge("dana confirmed two commitments")
    print()
    c.run(c["emil"], "pledge list --everyone --all")
    print("\n   Outstanding commitments, per pair:")
    c.run(c["emil"], "ledger")


def rate_and_share(c: Community) -> None:
    act(
        6,
        "Ideas, ratings, utility and a distribution",
        "Emil posts an idea; members comment and rate ideas and each other (0..5).\n"
        "   Utility weighs each rating by the rater's own standing in the trust list.",
    )
    idea = c.made(
        c["emil"],
        "idea post 'Repair cafe every Saturday' "
        "--body 'Bring what is broken; leave with it fixed.'",
    )[:SHORT]
    c.converge("emil's idea reached every node")
    c.run(c["anna"], f"comment {idea} 'I can bring my soldering station'")
    c.run(c["dana"], f"comment {idea} 'Count me in for the first one'")
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
        c.run(c[rater], f"rate {target} {score}")
    c.converge("comments and ratings")
    print()
    c.run(c["boris"], f"idea show {idea}")
    print()
    c.run(c["boris"], "utility")
    print()
    c.run(c["chen"], "distribute 1000 EUR")


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
    agreement = c.made(anna, "agreement new 'Community rules' --file rules.txt")[:SHORT]
    c.converge("anna's agreement reached every node")
    print(f"   (chen's node stops: exit code {c.stop(chen)})")
    c.run(chen, f"agreement edit {agreement} --file rules-chen.txt")
    c.run(boris, f"agreement edit {agreement} --file rules-boris.txt")
    c.converge("boris's edit, with chen offline")
    c.start([chen])
    print(f"   (chen's node is back, pid {chen.node.pid if chen.node else '?'})")
    c.converge("chen back online: both edits merged")
    c.run(c["dana"], "agreement list")
    c.run(c["dana"], f"agreement blame {agreement}")
    return agreement


def accept_agreement(c: Community, agreement: str) -> None:
    act(8, "Everyone accepts: membership", "Accepting signs the hash of the version one sees.")
    for person in c.people.values():
        c.run(person, f"agreement accept {agreement}")
    c.converge("five acceptances")
    c.run(c["emil"], f"members --agreement {agreement}")


def choose_spokesperson(c: Community) -> None:
    act(
        9,
        "A spokesperson, by simple vote",
        "One vote per trust-list member; a later vote replaces an earlier one.",
    )
    question = "Who speaks for us at the town council?"
    poll = c.made(
        c["dana"], f"poll new {quote(question)} --option boris --option chen --closes 7d"
    )[:SHORT]
    c.converge("dana's poll reached every node")
    for voter, option in (
        ("anna", "boris"),
        ("boris", "chen"),
        ("chen", "chen"),
        ("dana", "boris"),
        ("emil", "chen"),
        ("emil", "boris"),
    ):
        c.run(c[voter], f"vote {poll} {option}")
    c.converge("six votes, emil changed his mind")
    c.run(c["anna"], f"poll show {poll}")


def portal(c: Community) -> None:
    act(
        10,
        "The portal: a service in hours, a deal, two reviews",
        "Chen offers three hours of bicycle repair; emil asks for it. Emil pledges the\n"
        "   price for chen's listing and commits; chen marks it fulfilled; each reviews\n"
        "   the other once. Reviews count toward utility.",
    )
    chen, emil = c["chen"], c["emil"]
    offer = c.made(
        chen,
        "listing offer 'Bicycle repair' --tag services --tag bikes --price 15 --currency EUR "
        "--per hourly --quantity 3 --unit hours --place 'Repair cafe' --geohash u33dc",
    )[:SHORT]
    c.run(
        emil, "listing request 'Someone to fix my bicycle' --tag services --quantity 2 --unit hours"
    )
    c.converge("an offer and a request")
    c.run(emil, "listing search bicycl --side offer --near u33")
    pledge = c.made(emil, f"pledge intend 45 EUR --listing {offer}")[:SHORT]
    c.refused(emil, f"review {pledge} 5")
    c.run(emil, f"pledge commit {pledge} --due 7d")
    c.converge("emil's commitment for the repair")
    c.run(chen, f"pledge fulfilled {pledge}")
    c.converge("chen confirmed the repair")
    c.run(emil, f"review {pledge} 5 --text 'Fixed in an hour, brakes too'")
    c.run(chen, f"review {pledge} 4 --text 'Paid on the spot'")
    c.run(chen, f"listing close {offer}")
    c.converge("two reviews, the offer closed")
    c.run(c["anna"], "listing list --status done")


def open_organizer(c: Community) -> None:
    act(
        11,
        "The organizer in the browser",
        "Every node serves its web organizer beside its API, on 127.0.0.1 only.\n"
        "   'samoorg web' prints a link that opens a browser session once (then a cookie).",
    )
    c.run(c["anna"], "web")


def carry_offline(c: Community) -> None:
    act(
        12,
        "No network needed: a bundle to an offline machine",
        "Emil exports every feed he holds to a file; an offline home imports it and\n"
        "   shows the same view digests. A damaged file is refused; every node verifies.",
    )
    offline = Person("offline", c.root / "offline")
    c.run(offline, "init")
    c.run(c["emil"], "export community.bundle")
    c.run(offline, "import community.bundle")
    whole = (c.root / "community.bundle").read_bytes()
    (c.root / "damaged.bundle").write_bytes(whole[: len(whole) // 2])
    c.refused(offline, "import damaged.bundle")
    c.same_as_network(offline, "the offline copy")
    for person in [*c.people.values(), offline]:
        c.run(person, "verify")


def shut_down(c: Community) -> None:
    act(13, "Shut down", "SIGTERM to every node: each must exit 0 with no traceback in its log.")
    stop_cleanly(c)


def stop_cleanly(c: Community) -> None:
    """Stop every daemon; each must exit 0 with a clean log."""
    codes = c.stop_everyone()
    clean = c.logs_clean()
    for name, code in codes.items():
        print(f"   {name:<6} exit code {code}; log {'clean' if clean[name] else 'HAS A TRACEBACK'}")
    if any(codes.values()) or not all(clean.values()):
        raise DemoFailure("a node did not stop cleanly (see its node.log)")


def keep_running(c: Community, timeout: float) -> None:
    act(
        13,
        "The nodes keep running",
        "Each node stops cleanly and starts again on its own, to outlive this demo.",
    )
    stop_cleanly(c)
    for person in c.people.values():
        print(f"   {person.name:<6} node running again, pid {c.detach(person, timeout)}")
    print("\n   Anna's dashboard (the link works once; 'samoorg web' makes another):")
    c.run(c["anna"], "web")
    print("\n   Stop the nodes with:")
    for person in c.people.values():
        print(f"     samoorg --home {quote(str(person.home))} node stop")


def summary(c: Community, seconds: float) -> bool:
    """Print the demo's own record of its convergence checks; whether all passed."""
    print("\n== Convergence checks")
    print(f"   {'#':>2}  {'after':<38}  nodes  entries  converged in s  result")
    for n, check in enumerate(c.checks, 1):
        entries = str(check.entries) if check.entries >= 0 else "-"
        took = "-" if check.seconds is None else f"{check.seconds:.2f}"
        result = "passed" if check.passed else "FAILED"
        print(f"   {n:>2}  {check.label:<38}  {check.nodes:>5}  {entries:>7}  {took:>14}  {result}")
    passed = bool(c.checks) and all(check.passed for check in c.checks)
    verdict = "all passed" if passed else "SOME FAILED"
    print(f"\n   {len(c.checks)} convergence checks, {verdict}; demo ran {seconds:.0f} s")
    return passed


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--keep", action="store_true", help="keep the homes and the nodes running (see above)"
    )
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
        portal(c)
        open_organizer(c)
        carry_offline(c)
        if args.keep:
            keep_running(c, args.timeout)
        else:
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
