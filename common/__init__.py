"""Cross-service plumbing: settings, database sessions, errors, auth, cache, discovery, events. No domain rules."""
