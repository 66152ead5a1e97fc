"""Projections: the event log turned into account status, audit trail and reports.

Every projection reads only the event log, in order, and stores its position
in the same transaction as its rows, so it sees each event exactly once and
can be rebuilt from zero with the same result.
"""
