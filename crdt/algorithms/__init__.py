"""Algorithms the families use, free of entries and views: money amounts, netting of
debts, utility (personalised PageRank), shares, and the text CRDT with its edit planner."""
