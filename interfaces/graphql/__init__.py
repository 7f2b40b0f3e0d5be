"""The GraphQL API at /graphql: read-only queries over incidents for dashboards."""
