"""One module per group of ``seekers`` commands."""
