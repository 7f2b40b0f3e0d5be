"""Everything that talks to another process or a file: SQL, the runner, Redis, the broker."""
