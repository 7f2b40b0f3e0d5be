"""`beacon projections`: where each read model stands, and rebuilding them from history."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from domain.time import iso_of_micros
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.rebuilder import Rebuilder
from interfaces.cli.console import console, fail
from interfaces.cli.lifecycle import load_settings, running

projections = typer.Typer(help="Inspect and rebuild read models.", no_args_is_help=True)


@projections.command("status")
def status() -> None:
    """Position, head of the log and lag of every projection, and why any is failing."""
    with running(load_settings()) as beacon:
        table = Table("name", Column("position", justify="right"),
                      Column("head", justify="right"), Column("lag", justify="right"), "failing")
        failing = []
        for runner in beacon.runners:
            state = runner.status()
            failure = state.failure
            if failure is not None:
                failing.append((state.name, failure))
            table.add_row(state.name, str(state.position), str(state.head), str(state.lag),
                          "" if failure is None else Text(
                              f"since {iso_of_micros(failure.since)[:19]}Z, "
                              f"{failure.failures} tries", style="red"))
        console.print(table)
        for name, failure in failing:
            console.print(Text(f"{name}: the page after position {failure.position} fails: "
                               f"{failure.error}", style="red"))
        if failing:
            fail(f"{len(failing)} projection(s) failing; each is retried (its traceback is in the "
                 "log of the process that runs it)", code=1)


@projections.command("rebuild")
def rebuild(
    name: Annotated[str | None, typer.Argument(help="The projection to rebuild.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Rebuild every projection.")] = False,
) -> None:
    """Replay history into fresh tables while the live ones serve, then switch."""
    if every == (name is not None):
        fail("give one projection NAME or --all", code=2)
    with running(load_settings()) as beacon:
        # The enrichment pipeline records events: it has no read model to rebuild.
        rebuildable = [runner for runner in beacon.runners if runner.rebuildable]
        known = [runner.name for runner in rebuildable]
        if name is not None and name not in known:
            fail(f"unknown projection {name!r}; known: {', '.join(known)}", code=2)
        for runner in rebuildable if every else [beacon.runner(str(name))]:
            position, spent = rebuild_with_progress(runner)
            beacon.rebuilt(runner.name)
            console.print(f"[green]rebuilt[/green] {runner.name} up to position {position} ({spent})")


class EventRateColumn(ProgressColumn):
    """How many events of the log per second the replay goes through (on average once done)."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        if task.finished and task.elapsed:
            speed = task.completed / task.elapsed
        return Text("? events/s" if speed is None else f"{speed:,.0f} events/s",
                    style="progress.data.speed")


def rebuild_with_progress(runner: ProjectionRunner) -> tuple[int, str]:
    """Rebuild one projection behind a progress bar; returns the position it reached and how
    long each phase took (load, indexes, vacuum, swap)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  EventRateColumn(), TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task(runner.name, total=runner.head())

        def advance(position: int, head: int) -> None:
            progress.update(task, completed=position, total=head)

        rebuilder = Rebuilder(runner)
        position = rebuilder.run(advance)
        progress.update(task, completed=position, total=position)
    return position, rebuilder.spent()
