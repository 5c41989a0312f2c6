"""Replay the editing traces of ../shared/traces through the text CRDT.

Sequential traces (``{startContent, endContent, txns: [{patches}]}``) are one
author typing. Concurrent traces add ``agent`` and ``parents`` (indexes of
earlier transactions, a DAG; see the editing-traces README): a transaction's
positions refer to the document holding exactly the transitive closure of
its parents. Every agent here is a separate :class:`Replica`; before an
agent applies a transaction it receives the changes of the other agents
that the transaction's parents include. Each agent's transactions are totally
ordered, so "what a transaction has seen" is one counter per agent.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from samoorg.crdt.algorithms.text import TextDoc
from samoorg.crdt.algorithms.text_replica import Change, Replica, change_from_local


def load_trace(path: Path) -> dict[str, Any]:
    """The decoded JSON of a gzipped trace."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def replay_sequential(trace: dict[str, Any], agent: bytes = b"typist") -> TextDoc:
    """One author types the whole trace into a fresh document."""
    doc = TextDoc()
    for txn in trace["txns"]:
        for pos, removed, inserted in txn["patches"]:
            if removed:
                doc.local_delete(agent, pos, removed)
            if inserted:
                doc.local_insert(agent, pos, inserted)
    return doc


def txn_agent(index: int) -> bytes:
    """The change id of transaction ``index``."""
    return b"txn" + index.to_bytes(4, "big")


def replay_concurrent(trace: dict[str, Any]) -> tuple[list[Replica], list[Change]]:
    """Replay as separate authors; return every agent's replica and every change.

    The replicas are not yet merged with each other: callers deliver
    ``changes`` to check convergence.
    """
    agents = trace["numAgents"]
    replicas = [Replica() for _ in range(agents)]
    delivered = [[0] * agents for _ in range(agents)]  # delivered[u][a]: txns of a seen by u
    by_agent: list[list[int]] = [[] for _ in range(agents)]
    seen: list[list[int]] = []  # per txn: how many txns of each agent its closure holds
    changes: list[Change] = []
    for index, txn in enumerate(trace["txns"]):
        user = txn["agent"]
        vector = [0] * agents
        for parent in txn["parents"]:
            vector = [max(a, b) for a, b in zip(vector, seen[parent], strict=True)]
        replica = replicas[user]
        for other in range(agents):
            if other == user:
                continue
            for position in range(delivered[user][other], vector[other]):
                replica.receive(changes[by_agent[other][position]])
            delivered[user][other] = max(delivered[user][other], vector[other])
        assert not replica.held, "a transaction's parents were not all delivered"
        agent = txn_agent(index)
        doc = replica.doc
        for pos, removed, inserted in txn["patches"]:
            if removed:
                doc.local_delete(agent, pos, removed)
            if inserted:
                doc.local_insert(agent, pos, inserted)
        change = change_from_local(agent, doc.take_ops(), replica.heads)
        if change.ops:
            replica.record_local(change)
        changes.append(change)
        by_agent[user].append(index)
        vector[user] = len(by_agent[user])
        seen.append(vector)
    return replicas, changes
