"""No NUL character reaches a resolver: PostgreSQL text cannot hold one, so a lookup by it could
only fail deeper down, and one stored in an event would stop the read models that copy it. The
HTTP guard (interfaces/rest/middleware.py) refuses one in a body's JSON; a GraphQL string literal
can spell it (`"\\u0000"` inside the query text), and a subscription's variables come over a
WebSocket: the literals are refused by a validation rule, the variables before execution."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule
from strawberry.extensions import SchemaExtension

from interfaces.rest.middleware import NUL_REFUSED


def carries_nul(value: Any) -> bool:
    """Whether a value (text, or lists and maps of them, keys included) holds a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(carries_nul(k) or carries_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(carries_nul(v) for v in value)
    return False


class NoNulLiterals(ValidationRule):
    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError(NUL_REFUSED, node, extensions={"code": "bad_request"}))


class NoNulText(SchemaExtension):
    """Refuses a document whose string literals or variables carry a NUL character."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, NoNulLiterals)
        yield

    def on_execute(self) -> Iterator[None]:
        if carries_nul(self.execution_context.variables):
            raise GraphQLError(NUL_REFUSED, extensions={"code": "bad_request"})
        yield
