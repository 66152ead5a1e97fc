"""The Seeker Ledger domain: the account aggregate, its rules and policies.

Nothing here knows about click, SQL or printing.
"""
