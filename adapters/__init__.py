"""Where the model meets storage: database URLs, how values are written into
stored events, the sealing mapper for personal data, the PostgreSQL schema
lock. Nothing here decides a business rule.
"""
