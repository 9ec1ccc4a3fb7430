"""Side-by-side measurement: a case's contenders alternate, and medians become ratios.

A :class:`Case` holds the contenders of one task (this runtime, DuckDB's own statement,
the peers). :func:`measure` runs every contender once per repetition, rotating the order
each time so that none always runs first (warm caches, a busy disk), reversing it every
other round so that none always follows the same one, and flushing written files to
disk before each timed run (:func:`settle`); it keeps every sample. Times are noisy on
a shared 2-core machine; the report therefore compares medians taken in the same run
(:meth:`Outcome.ratio`), never absolute numbers alone.

A contender's ``run`` may return a number: that number is then the sample instead of the
elapsed time (peak RSS in MiB, measured in a child process, for example).
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.data import Dataset


@dataclass
class Bench:
    """What every case module gets: ``cases(bench) -> list[Case]``.

    Attributes:
        workdir: A scratch folder for the run (removed afterwards); each case uses its
            own subfolder.
        data: The table and files every contender works on.
        smoke: A small run that only keeps the cases working (CI): targets are reported
            but mean nothing at that size.
        files: How many files the LIST / REMOVE cases use (10,000; fewer when smoking).
    """

    workdir: Path
    data: Dataset
    smoke: bool
    files: int


@dataclass
class Contender:
    """One way of doing a case's task.

    Attributes:
        name: Who it is: ``sqla_stage``, ``duckdb``, ``databend``, ``fakesnow``, ...
        run: The timed work of one repetition.
        prepare: Untimed work before every repetition (emptying the output, ...).
        runs: At most this many repetitions (a contender too slow to repeat every
            time, such as pandas on millions of rows); None runs every repetition.
    """

    name: str
    run: Callable[[], object]
    prepare: Callable[[], object] | None = None
    runs: int | None = None


@dataclass
class Target:
    """A goal of issue 6 for one case: a bound on ``contender``'s median.

    With ``versus``, ``at_most`` bounds ``median(contender) / median(versus)``: "at least
    3x faster than Databend" is ``at_most = 1 / 3`` against ``databend``. Without it,
    ``at_most`` bounds the median itself, in the case's unit ("LIST under 0.5 s").
    """

    contender: str
    versus: str | None
    at_most: float
    text: str

    def measured(self, outcome: Outcome) -> float:
        """The ratio (or, without ``versus``, the median) the target bounds."""
        if self.versus is None:
            return outcome.median(self.contender)
        return outcome.ratio(self.contender, self.versus)

    def shown(self, outcome: Outcome) -> str:
        """The measured value as the report prints it."""
        if self.versus is None:
            return _number(self.measured(outcome), outcome.case.unit)
        return f"{self.measured(outcome):.2f}x {self.versus}"

    def met(self, outcome: Outcome) -> bool:
        """Whether the outcome meets the target."""
        return self.measured(outcome) <= self.at_most


@dataclass
class Case:
    """A task measured side by side.

    Attributes:
        name: What is measured, as the report's row title.
        group: The report's section (``Unload``, ``Load``, ``Files``, ``S3``, ...).
        contenders: The ways of doing it; the first is this runtime.
        baseline: The contender every ratio is taken against.
        targets: The goals the report checks.
        unit: ``s`` for times; anything else when contenders return their own samples.
        note: Where the time goes when a target is missed, or what the case leaves out.
        setup: Untimed work before the first repetition of any contender.
        teardown: Untimed work after the last one.
        repeats: At most this many repetitions (a slow case); None takes the run's.
    """

    name: str
    group: str
    contenders: list[Contender]
    baseline: str = "duckdb"
    targets: list[Target] = field(default_factory=list)
    unit: str = "s"
    note: str = ""
    setup: Callable[[], object] | None = None
    teardown: Callable[[], object] | None = None
    repeats: int | None = None


@dataclass
class Outcome:
    """The samples of every contender of a case."""

    case: Case
    samples: dict[str, list[float]]

    def median(self, name: str) -> float:
        """The median sample of a contender."""
        return statistics.median(self.samples[name])

    def ratio(self, name: str, versus: str | None = None) -> float:
        """``median(name) / median(versus)`` (the case's baseline by default)."""
        return self.median(name) / self.median(versus or self.case.baseline)


def settle() -> None:
    """Untimed, before every timed run: collect garbage and flush written files to disk.

    Without it the kernel writes back the previous contender's output (hundreds of MB
    for an unload) while the next one is timed, and that contender pays for it.
    """
    gc.collect()
    if hasattr(os, "sync"):
        os.sync()


#: Repetitions a time budget never goes below (unless fewer are asked for).
MIN_REPEATS = 3


def measure(case: Case, repeats: int, budget: float | None = None) -> Outcome:
    """Run each contender ``repeats`` times, rotating their order every repetition.

    ``case.repeats`` lowers ``repeats``, and a contender's ``runs`` lowers its own count.
    With a ``budget`` (seconds), the first repetition's timed work sets how many more
    fit in it, but never fewer than :data:`MIN_REPEATS` repetitions in all.
    """
    samples: dict[str, list[float]] = {contender.name: [] for contender in case.contenders}
    if case.repeats is not None:
        repeats = min(repeats, case.repeats)
    if case.setup is not None:
        case.setup()
    try:
        count = len(case.contenders)
        repetition = 0
        while repetition < repeats:
            shift = repetition % count
            order = case.contenders[shift:] + case.contenders[:shift]
            if (repetition // count) % 2:
                order.reverse()  # so that no contender always follows the same one
            spent = 0.0
            for contender in order:
                if contender.runs is not None and len(samples[contender.name]) >= contender.runs:
                    continue
                if contender.prepare is not None:
                    contender.prepare()
                settle()
                start = time.perf_counter()
                value = contender.run()
                elapsed = time.perf_counter() - start
                if contender.runs is None:
                    spent += elapsed
                own = isinstance(value, int | float) and not isinstance(value, bool)
                samples[contender.name].append(float(value) if own else elapsed)  # type: ignore[arg-type]
            if repetition == 0 and budget is not None and spent > 0:
                fit = max(MIN_REPEATS, int(budget // spent))
                repeats = min(repeats, fit)
            repetition += 1
    finally:
        if case.teardown is not None:
            case.teardown()
    return Outcome(case, samples)


def _number(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2 if abs(value) >= 1 else 3
    return f"{value:.{digits}f} {unit}"


def report(outcomes: list[Outcome], command: str, machine: str) -> str:
    """The Markdown report: a table per group, then the targets and their verdicts."""
    lines = [
        "<!-- Written by the benchmarks; do not edit by hand. -->",
        "",
        f"Reproduce with `{command}`. Measured on {machine}.",
        "",
    ]
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.case.group, []).append(outcome)
    for group, members in groups.items():
        lines += [f"### {group}", "", "| case | contender | median | ratio | runs |"]
        lines.append("| --- | --- | ---: | ---: | ---: |")
        for outcome in members:
            case = outcome.case
            for contender in case.contenders:
                ratio = outcome.ratio(contender.name)
                lines.append(
                    f"| {case.name} | {contender.name} | "
                    f"{_number(outcome.median(contender.name), case.unit)} | "
                    f"{ratio:.2f}x {case.baseline} | {len(outcome.samples[contender.name])} |"
                )
        lines.append("")
    lines += ["### Targets", "", "| case | target | measured | met |", "| --- | --- | ---: | --- |"]
    for outcome in outcomes:
        for target in outcome.case.targets:
            verdict = "yes" if target.met(outcome) else "**no**"
            lines.append(
                f"| {outcome.case.name} | {target.text} | {target.shown(outcome)} | {verdict} |"
            )
    notes = [f"- **{o.case.name}**: {o.case.note}" for o in outcomes if o.case.note]
    if notes:
        lines += ["", "### Notes", "", *notes]
    return "\n".join(lines) + "\n"


def write_report(path: Path, text: str, marker: str = "<!-- results -->") -> None:
    """Replace everything after the last ``marker`` in ``path`` with ``text``.

    The page's prose above the marker stays (it may quote the marker itself).
    """
    page = path.read_text() if path.exists() else f"# Performance\n\n{marker}\n"
    head, found, _ = page.rpartition(marker)
    if not found:
        head = page.rstrip("\n") + "\n\n"
    path.write_text(f"{head}{marker}\n\n{text}")
