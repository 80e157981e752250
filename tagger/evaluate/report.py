"""Where an eval's files go, and the report drawn as JSON, Markdown, HTML or a terminal table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tagger.atomic import write_atomic
from tagger.errors import OutputError
from tagger.evaluate.models import EvalReport
from tagger.evaluate.tables import Table, header_lines, tables

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table as RichTable

TERMINAL_ROWS = 15  # long lists are cut to this many rows on screen; files hold them all


@dataclass(frozen=True)
class ReportPaths:
    json: Path
    markdown: Path | None
    html: Path | None
    base: Path  # REPORT without suffix; predictions logs are named after it

    def predictions(self, system: int) -> Path:
        """A's log is BASE.predictions.jsonl, B's (--compare) BASE.compare.predictions.jsonl."""
        kind = "predictions" if system == 0 else "compare.predictions"
        return self.base.with_name(f"{self.base.name}.{kind}.jsonl")


def report_paths(target: Path | None, home: Path, now: datetime | None = None) -> ReportPaths:
    """-o REPORT.md -> REPORT.md + REPORT.json; .json -> JSON only; .html -> HTML + JSON.

    Without -o, everything goes under HOME/evals/<UTC timestamp>/ so a run can be reopened.
    """
    if target is None:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        folder = _fresh(home / "evals" / stamp)
        return ReportPaths(folder / "report.json", folder / "report.md", None, folder / "report")
    suffix = target.suffix.lower()
    if suffix in (".md", ".json", ".html"):
        base = target.with_suffix("")
        json = base.with_name(base.name + ".json")
        return ReportPaths(
            json, target if suffix == ".md" else None, target if suffix == ".html" else None, base
        )
    with_suffix = target.with_name(target.name + ".md")
    return ReportPaths(target.with_name(target.name + ".json"), with_suffix, None, target)


def _fresh(folder: Path) -> Path:
    candidate, n = folder, 1
    while candidate.exists():
        n += 1
        candidate = folder.with_name(f"{folder.name}-{n}")
    return candidate


def write_reports(report: EvalReport, paths: ReportPaths) -> list[Path]:
    written = [_write(paths.json, to_json(report))]
    if paths.markdown is not None:
        written.append(_write(paths.markdown, to_markdown(report)))
    if paths.html is not None:
        written.append(_write(paths.html, to_html(report)))
    return written


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)  # through a symlink; never onto a device or FIFO
    except OSError as exc:
        raise OutputError(f"cannot write the report ({exc.strerror}).", path=str(path)) from None
    return path


def to_json(report: EvalReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


def to_markdown(report: EvalReport) -> str:
    parts = ["# tagger eval", "", *[f"- {line}" for line in header_lines(report)], ""]
    for table in tables(report):
        parts += [f"## {table.title}", ""]
        if table.note:
            parts += [table.note, ""]
        if table.rows:
            parts += [_md_row(table.columns), _md_rule(table), *map(_md_row, table.rows), ""]
    return "\n".join(parts)


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _md_rule(table: Table) -> str:
    rules = ["---:" if _align(table, i) == "r" else "---" for i in range(len(table.columns))]
    return "| " + " | ".join(rules) + " |"


def _align(table: Table, index: int) -> str:
    return table.align[index] if index < len(table.align) else "l"


def to_html(report: EvalReport) -> str:
    """The same page `tagger view` shows for an eval, as one self-contained file."""
    from tagger.view.eval_page import eval_page

    return eval_page(report, title="tagger eval", standalone=True) + "\n"


def _marked(table: Table, row: int) -> bool:
    return row < len(table.marks) and table.marks[row]


def print_terminal(report: EvalReport, console: Console, more_in: str = "the report") -> None:
    for line in header_lines(report):
        console.print(line, highlight=False, markup=False)
    for table in tables(report):
        shown = table.head(TERMINAL_ROWS, more_in)
        console.print()
        if shown.rows:
            console.print(_rich_table(shown))
        else:
            console.print(shown.title, style="bold", highlight=False, markup=False)
        if shown.note:
            console.print(shown.note, style="dim", highlight=False, markup=False)


def _rich_table(table: Table) -> RichTable:
    from rich.table import Table as RichTable
    from rich.text import Text

    rich = RichTable(title=table.title, title_justify="left", title_style="bold")
    for i, column in enumerate(table.columns):
        rich.add_column(column, justify="right" if _align(table, i) == "r" else "left")
    for n, row in enumerate(table.rows):
        rich.add_row(*map(Text, row), style="bold red" if _marked(table, n) else None)
    return rich
