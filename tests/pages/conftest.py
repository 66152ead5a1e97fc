"""The page tests use the session's headless Chromium (``tests/conftest.py``:
``browser``, Debian's, through Playwright, one per process)."""
