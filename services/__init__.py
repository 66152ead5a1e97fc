"""The application layer: one named use case per method (``SeekerLedger``),
the audit trail of an account, the sweep, the audit replay, simulations.

It loads aggregates, asks them to act, saves what they recorded, and returns
plain values; it knows the library ``Application`` but no click and no SQL.
"""
