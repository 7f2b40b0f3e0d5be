"""A rule's condition is kept for ever in its events: what cannot be measured, or would bloat
every event of the rule, is refused with the field named."""

from __future__ import annotations

from typing import Any

import pytest

from domain.alert_conditions import check_condition
from domain.errors import ValidationError


def threshold(**overrides: Any) -> dict[str, Any]:
    return {"type": "threshold", "event": "signup", "window_seconds": 300, "op": ">",
            "value": 10, **overrides}


@pytest.mark.parametrize(("condition", "field"), [
    (threshold(value=float("inf")), "condition.value"),
    (threshold(value=float("nan")), "condition.value"),
    (threshold(value=-1), "condition.value"),
    (threshold(value=True), "condition.value"),
    (threshold(filters=[{"key": "k" * 201, "value": "x"}]), "condition.filters"),
    (threshold(filters=[{"key": "", "value": "x"}]), "condition.filters"),
    (threshold(filters=[{"key": "plan", "value": "x" * 1001}]), "condition.filters"),
    (threshold(filters=[{"key": "plan", "value": {"nested": {"deep": 1}}}]), "condition.filters"),
    (threshold(filters=[{"key": "plan", "value": ["a", "b"]}]), "condition.filters"),
    (threshold(filters=[{"key": "plan", "op": "regex", "value": "a"}]), "condition.filters"),
    (threshold(filters=[{"key": "plan"}] * 21), "condition.filters"),
    (threshold(filters="plan=pro"), "condition.filters"),
    (threshold(window_seconds=86_401), "condition.window_seconds"),
    ({"type": "exception_group", "trigger": "over", "value": 1.5}, "condition.value"),
    ({"type": "monitor", "trigger": "down", "monitor_id": "not-an-id"}, "condition.monitor_id"),
    ({"type": "sql", "query": "DROP TABLE rm_events"}, "condition.type"),
])
def test_a_condition_that_cannot_be_kept_is_refused_naming_its_field(
        condition: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_condition(condition)
    assert refused.value.details[0]["field"] == field


def test_filter_values_are_kept_as_text_and_absent_ones_as_null() -> None:
    checked = check_condition(threshold(filters=[
        {"key": "plan", "value": "pro"}, {"key": "seats", "op": "gt", "value": 5},
        {"key": "$country", "op": "is_set"}]))
    assert checked["filters"] == [{"key": "plan", "op": "eq", "value": "pro"},
                                  {"key": "seats", "op": "gt", "value": "5"},
                                  {"key": "$country", "op": "is_set", "value": None}]
