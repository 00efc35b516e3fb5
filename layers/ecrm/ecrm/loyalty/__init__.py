"""Loyalty: order events accrue points by rules and tiers into an append-only ledger; refunds
reverse, points expire, members redeem; every effect happens exactly once (docs/loyalty.md)."""
