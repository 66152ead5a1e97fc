"""Pages for the people who read them: a manager's report and an auditor's
timeline, each one self-contained HTML file.

A page must open from a USB stick on a machine with no network, so every
byte it needs (styles, charts as inline SVG, text) is inside the file: no
CDN, no web font, no script or image fetched from anywhere. The modules here
are imported only by ``seekers report html`` and ``seekers history --format
html``; the charting library they use (matplotlib) is imported later still,
inside the function that draws, so no other command pays for it.
"""
