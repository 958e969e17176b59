"""Browser tests: headless Debian Chromium, driven by Playwright, against the real platform serving the built UI."""
