"""Personal data at rest: per-seeker data keys wrapped by a master key, the
key table, the email blind index, and crypto-shredding on purge."""
