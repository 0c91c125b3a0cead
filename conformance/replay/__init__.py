"""A check's steps recorded as it runs, and replaying them against a fresh `serve`."""
