"""The ledger the sync engine writes to — artifact activities, artifact pairs, blockers and
background jobs — the error catalog, and the Activity screen where every failure is visible
and can be retried."""
