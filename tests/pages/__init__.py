"""Tests of the HTML pages, opened in headless Chromium with no network."""
