"""A workspace's book of live alert rules: what makes its cap on rules exact.

Every rule is evaluated on every batch that could touch it, so a workspace's rules are capped
(`BEACON_ALERT_RULES_MAX_PER_WORKSPACE`). Counting them in a read model would let a loop of
creations, or two at once, run past the cap while the read model is behind; instead a rule is
entered in its workspace's book in the same save that creates it, and struck in the one that
deletes it, so two creations racing for the last place conflict and only one wins.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import RuleLimitError
from domain.ids import global_id


def alert_book_id(workspace_id: UUID) -> UUID:
    return global_id("alert_book", str(workspace_id))


class AlertBook(Aggregate):
    """The ids of one workspace's live rules."""

    def __init__(self, workspace_id: UUID, rule_ids: list[str]):
        self.workspace_id = workspace_id
        self.rule_ids = sorted(set(rule_ids))  # a list, so that a snapshot can hold it

    class Opened(Aggregate.Created):
        """`rule_ids`: the rules the workspace had before its book (made before books were)."""

        workspace_id: UUID
        rule_ids: list[str]

    @classmethod
    def open(cls, workspace_id: UUID, rule_ids: list[str]) -> AlertBook:
        return cls._create(cls.Opened, id=alert_book_id(workspace_id),
                           workspace_id=workspace_id, rule_ids=sorted(rule_ids))

    class Entered(Aggregate.Event):
        rule_id: str

        def apply(self, aggregate: AlertBook) -> None:
            aggregate.rule_ids.append(self.rule_id)

    def enter(self, rule_id: UUID, *, limit: int) -> None:
        """Enter a new rule, or refuse it when the workspace already has `limit` rules."""
        if str(rule_id) in self.rule_ids:
            return
        if len(self.rule_ids) >= limit:
            raise RuleLimitError(
                f"this workspace already has {len(self.rule_ids)} alert rules, the most it may "
                f"have ({limit}, BEACON_ALERT_RULES_MAX_PER_WORKSPACE): delete one first",
                limit=limit)
        self.trigger_event(self.Entered, rule_id=str(rule_id))

    class Struck(Aggregate.Event):
        rule_id: str

        def apply(self, aggregate: AlertBook) -> None:
            aggregate.rule_ids.remove(self.rule_id)

    def strike(self, rule_id: UUID) -> None:
        if str(rule_id) in self.rule_ids:
            self.trigger_event(self.Struck, rule_id=str(rule_id))
