"""The ``seekers`` admin CLI: parse, call the application service, render."""
