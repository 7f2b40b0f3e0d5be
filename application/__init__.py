"""One eventsourcing Application per bounded context: load, let the aggregate decide, save."""
