"""Read-model logic: which rows each event makes, and the interfaces queries are answered through."""
