from datetime import UTC, datetime, timedelta
from uuid import UUID

from application.monitoring import MonitoringApplication
from domain.actor import ADMIN
from domain.ids import new_id
from domain.monitor import Monitor

START = datetime(2026, 3, 1, tzinfo=UTC)


class FixedDue:
    """Says which monitors are due, as the monitors read model would."""

    def __init__(self) -> None:
        self.ids: list[UUID] = []

    def due_for_check(self, now: datetime, limit: int = 1000) -> list[UUID]:
        return list(self.ids)


def test_every_due_monitor_is_checked_even_when_one_of_them_fails() -> None:
    now = [START]
    due = FixedDue()
    app = MonitoringApplication(clock=lambda: now[0], due=due)
    workspace = new_id()
    first, first_token = app.create_monitor(workspace, name="a", period_seconds=60,
                                            grace_seconds=0, page_slug=None, actor=ADMIN)
    second, second_token = app.create_monitor(workspace, name="b", period_seconds=60,
                                              grace_seconds=0, page_slug=None, actor=ADMIN)
    app.record_beat(first_token)
    app.record_beat(second_token)
    due.ids = [first.id, new_id(), second.id]  # the middle one does not exist
    now[0] = START + timedelta(hours=1)
    followed: list[Monitor] = []

    assert app.check_due(followed.append) == 3
    assert [m.id for m in followed] == [first.id, second.id]
    assert {app.get_monitor(workspace, m.id).status for m in followed} == {"down"}
