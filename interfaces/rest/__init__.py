"""The REST API: admin, incidents, operations."""
