"""GraphQL errors in the platform's words: each carries the code REST would use, and an
unexpected failure is reported as an internal error without leaking its text."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import DomainError
from interfaces.rest.errors import ApiError

EXPECTED = (DomainError, ApiError, GraphQLError)


def is_expected(error: GraphQLError) -> bool:
    """Bad documents, bad variables, bad arguments and domain refusals; a resolver (an error
    with a path) failing any other way is our fault."""
    return (error.original_error is None or error.path is None
            or isinstance(error.original_error, EXPECTED))


def shaped(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if not is_expected(error):
        return GraphQLError("internal error", error.nodes, error.source, error.positions,
                            error.path, extensions={"code": "internal_error"})
    if isinstance(original, (DomainError, ApiError)):
        error.extensions = {**(error.extensions or {}), "code": original.code}
    return error


class PlatformErrors(SchemaExtension):
    """Give every error of a result its code; mask the unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [shaped(e) for e in errors]
