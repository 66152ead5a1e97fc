"""Tamper evidence for the event log: stream chains, the RFC 9162 log tree, checkpoints."""  # noqa: E501
