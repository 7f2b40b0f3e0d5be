"""What alert evaluation asks of the read models (application/alert_evaluation.py): where it got
to, the live rules, and a meter per kind of condition (infrastructure/alert_meters.py,
infrastructure/arrival_meters.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol


class EvaluationPositions(Protocol):
    """Where evaluation got to: a log position, or the last grid instant (µs)."""

    def get(self, name: str) -> int | None: ...

    def put(self, name: str, value: int) -> None: ...

    def put_all(self, values: Mapping[str, int]) -> None:
        """Each of `values`, all or none (a run's log positions and grid instant together)."""


class AlertRules(Protocol):
    """The live rules as the read model lists them: id, workspace_id, condition."""

    def rules(self, kind: str, workspace_id: str | None = None) -> list[dict[str, Any]]: ...


class Meter(Protocol):
    """One kind of condition measured on what a workspace received."""

    def value(self, workspace_id: str, condition: dict[str, Any], at: datetime) -> float:
        """The condition's value over the window ending at `at`: (at - window, at]."""

    def values(self, workspace_id: str, condition: dict[str, Any],
               instants: list[datetime]) -> list[float]:
        """`value` at each instant (ascending), as the read models are now: what a run judges
        a rule at, every moment a batch touching it arrived and every grid instant."""

    def instants(self, workspace_id: str, condition: dict[str, Any], start: datetime,
                 end: datetime) -> list[datetime]:
        """When what the condition watches changed in [start, end] (what live evaluation
        reacts to)."""

    def known_values(self, workspace_id: str, condition: dict[str, Any],
                     instants: list[datetime], settle: timedelta) -> list[float]:
        """`value` at each instant (ascending) as it was known `settle` after it: what live
        evaluation, judging each instant then, saw (a preview's replay)."""

    def cause(self, workspace_id: str, condition: dict[str, Any],
              at: datetime) -> dict[str, Any] | None:
        """What the value at `at` counted, where the number alone does not say which (asked
        only when a rule fires: recorded with the firing, sent with its webhook)."""
