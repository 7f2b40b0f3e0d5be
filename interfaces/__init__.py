"""The edges: REST, GraphQL, CLI, dramatiq actors, templates, and the composition root."""
