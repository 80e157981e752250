"""The report as plain tables (title, columns, rows of text); report.py draws them three ways."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tagger.evaluate.metrics import TagScore
from tagger.evaluate.models import (
    METRIC_NAMES,
    EvalReport,
    GateCheck,
    PaperDiff,
    PaperResult,
    SystemResult,
)

FEW_POSITIVES = 3  # below this many gold positives a tag's scores are noise (eval/README.md)
_COUNTS = {"papers", "failed", "cached"}
_TOKENS = {"prompt_tokens_per_paper", "completion_tokens_per_paper"}


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    align: str = ""  # one letter per column, 'l' or 'r'; missing letters mean 'l'
    note: str = ""
    long: bool = False  # a list the terminal may cut short
    marks: list[bool] = field(default_factory=list)  # rows to highlight (gate failures)

    def head(self, n: int, where: str) -> Table:
        if not self.long or len(self.rows) <= n:
            return self
        more = f"{len(self.rows) - n} more in {where}."
        return replace(self, rows=self.rows[:n], note=f"{self.note} {more}".strip())


def fmt_metric(name: str, value: float) -> str:
    if name in _COUNTS:
        return str(int(value))
    if name in _TOKENS:
        return f"{value:.1f}"
    if name.startswith("cost_usd"):
        return f"${value:.6f}" if value < 1 else f"${value:.2f}"
    if name.startswith("latency"):
        return f"{value:.3f}s"
    return f"{value:.3f}"


def _signed(name: str, value: float) -> str:
    text = fmt_metric(name, abs(value))
    return ("+" if value > 0 else "-" if value < 0 else "±") + text


_ROLES = ("under test", "--compare")  # A is the run being evaluated, B the one beside it


def header_lines(report: EvalReport) -> list[str]:
    lines = [
        f"Gold: {report.gold.path} ({report.gold.papers} papers, split {report.gold.split}) · "
        f"taxonomy "
        f"{report.taxonomy.name} ({report.taxonomy.path})"
    ]
    for role, s in zip(_ROLES, report.systems, strict=False):
        identity = f"{s.model} · {s.prompt} · max {s.max_tags} tags"
        lines.append(f"{s.label} ({role}): {identity} · predictions {s.predictions}")
    c = report.comparison
    if c is not None:
        lines.append(
            f"Per paper by Jaccard: {c.a} better on {c.wins}, {c.b} better on {c.losses}, "
            f"tied on {c.ties}."
        )
    return lines + [f"Note: {note}" for note in report.notes]


def tables(report: EvalReport) -> list[Table]:
    """The metrics, then only the sections that have something to show."""
    optional = [per_tag_table(report.systems), failed_table(report), faithfulness_table(report)]
    optional.append(consistency_table(report))
    if report.comparison is not None:
        optional.append(diff_table(report))
    return [metrics_table(report), *[t for t in optional if t.rows]]


def metrics_table(report: EvalReport) -> Table:
    systems = report.systems
    columns = ["metric", *[s.label for s in systems]]
    if len(systems) > 1:
        columns.append(f"{systems[1].label} vs {systems[0].label}")
    gate = {c.metric: c for c in report.gate.checks} if report.gate else {}
    if gate:
        columns += ["baseline", "vs baseline", "gate"]
    names = _metric_names(systems)
    rows = [_metric_row(name, report, gate) for name in names]
    marks = [name in gate and gate[name].failed for name in names]
    interval = _interval_row(report, len(columns))
    if interval and "micro_f1" in names:
        at = names.index("micro_f1") + 1
        rows.insert(at, interval)
        marks.insert(at, False)
    align = "l" + "r" * (len(columns) - 1)
    return Table("Metrics", columns, rows, align=align, marks=marks, note=_metrics_note(report))


def _metric_row(name: str, report: EvalReport, gate: dict[str, GateCheck]) -> list[str]:
    row = [name, *[_value(name, s) for s in report.systems]]
    if report.comparison is not None:
        delta = report.comparison.deltas.get(name)
        row.append("" if delta is None else _signed(name, delta))
    if gate:
        check = gate.get(name)
        row += (
            [fmt_metric(name, check.baseline), _change(name, check.drop), _verdict(check.failed)]
            if check
            else ["", "", ""]
        )
    return row


def _value(name: str, system: SystemResult) -> str:
    if name in system.metrics:
        return fmt_metric(name, system.metrics[name])
    return "unknown" if name.startswith("cost_usd") and system.cost_unknown else ""


def _change(name: str, drop: float) -> str:
    """A gate check's drop (baseline - current, sign-adjusted; positive is worse) in words."""
    if abs(drop) < 5e-7:
        return "same"
    return f"{'worse' if drop > 0 else 'better'} by {fmt_metric(name, abs(drop))}"


def _interval_row(report: EvalReport, width: int) -> list[str]:
    """micro-F1's bootstrap interval per system, under the micro_f1 row."""
    cis = [s.micro_f1_ci for s in report.systems]
    first = next((ci for ci in cis if ci is not None), None)
    if first is None:
        return []
    cells = [f"[{ci.low:.3f}, {ci.high:.3f}]" if ci else "" for ci in cis]
    row = [f"micro_f1 {first.level * 100:g}% interval", *cells]
    return row + [""] * (width - len(row))


def _metrics_note(report: EvalReport) -> str:
    notes = []
    if report.comparison is not None:
        b, a = report.systems[1].label, report.systems[0].label
        notes.append(f"{b} vs {a}: {b}'s value minus {a}'s.")
    ci = report.systems[0].micro_f1_ci
    if ci is not None:
        notes.append(
            f"The micro_f1 interval: {ci.resamples} bootstrap resamples of the papers; a "
            "difference well inside it may be chance."
        )
    gate = _gate_note(report)
    return " ".join([*notes, gate] if gate else notes)


def _metric_names(systems: list[SystemResult]) -> list[str]:
    """Every metric any system has, plus the cost rows a system could not price."""
    present = set().union(*(s.metrics for s in systems))
    if any(s.cost_unknown for s in systems):
        present |= {m for m in METRIC_NAMES if m.startswith("cost_usd")}
    known = [m for m in METRIC_NAMES if m in present]
    return known + sorted(present - set(known))


def _verdict(failed: bool) -> str:
    return "FAIL" if failed else "ok"


def _gate_note(report: EvalReport) -> str:
    gate = report.gate
    if gate is None:
        return ""
    verdict = "passed" if gate.passed else "FAILED"
    notes = [
        f"Gate {verdict}: baseline {gate.baseline}, max drop {gate.max_drop:g} "
        f"({report.systems[0].label} worse than the baseline by more than that fails)."
    ]
    return " ".join(notes + [f"Note: {w}" for w in gate.warnings])


def per_tag_table(systems: list[SystemResult]) -> Table:
    first = {s.tag: s for s in systems[0].per_tag}
    others = [{s.tag: s for s in system.per_tag} for system in systems[1:]]
    tags = sorted(set(first).union(*others), key=lambda t: (-_support(t, first, others), t))
    columns = ["tag", "support"]
    for system in systems:
        prefix = f"{system.label} " if len(systems) > 1 else ""
        columns += [f"{prefix}pred", f"{prefix}P", f"{prefix}R", f"{prefix}F1"]
    rows = [_tag_row(tag, [first.get(tag), *[o.get(tag) for o in others]]) for tag in tags]
    note = (
        "Tags that occur in the gold set or in a prediction; macro F1 averages these rows. "
        f"† fewer than {FEW_POSITIVES} gold positives: too few to measure the tag."
    )
    return Table("Per tag", columns, rows, align="l" + "r" * (len(columns) - 1), note=note)


def _tag_row(tag: str, scores: list[TagScore | None]) -> list[str]:
    known = all(s is None or s.in_taxonomy for s in scores)
    support = next(s.support for s in scores if s is not None)
    row = [
        tag if known else f"{tag} (not in taxonomy)",
        f"{support}{'†' if support < FEW_POSITIVES else ''}",
    ]
    for s in scores:
        cells = [f"{v:.2f}" for v in (s.precision, s.recall, s.f1)] if s else ["", "", ""]
        row += [str(s.predicted if s else 0), *cells]
    return row


def _support(tag: str, first: dict[str, TagScore], others: list[dict[str, TagScore]]) -> int:
    for table in (first, *others):
        if tag in table:
            return table[tag].support
    return 0


def failed_table(report: EvalReport) -> Table:
    rows = [[s.label, p.id, p.title, p.error or ""] for s in report.systems for p in s.failed]
    note = "Failed papers count as empty predictions (no tags, no summary)."
    return Table("Failed papers", ["system", "id", "title", "error"], rows, note=note, long=True)


def faithfulness_table(report: EvalReport) -> Table:
    rows = [
        [s.label, p.id, ", ".join(p.unsupported), p.summary]
        for s in report.systems
        for p in s.papers
        if p.unsupported
    ]
    note = "Numbers and names in the summary that the title and abstract do not contain."
    columns = ["system", "id", "not in the abstract", "summary"]
    return Table("Unsupported details in summaries", columns, rows, note=note, long=True)


def consistency_table(report: EvalReport) -> Table:
    rows = []
    for s in report.systems:
        for p in _unstable(s):
            runs = [p.pred_tags, *p.repeat_tags]
            rows.append([s.label, p.id, ", ".join(p.gold_tags), " | ".join(_tags(r) for r in runs)])
    n = report.systems[0].consistency.repeats if report.systems[0].consistency else 0
    note = f"Papers whose {n} runs gave different tag sets." if n else ""
    columns = ["system", "id", "gold", "tags per run"]
    return Table("Unstable papers", columns, rows, note=note, long=True)


def _unstable(system: SystemResult) -> list[PaperResult]:
    ids = set(system.consistency.unstable) if system.consistency else set()
    return [p for p in system.papers if p.id in ids]


def diff_table(report: EvalReport) -> Table:
    c = report.comparison
    assert c is not None
    rows = [
        [d.id, d.title, _tags(d.gold_tags), *_diff_cells(d), _winner(d, c.a, c.b)] for d in c.diffs
    ]
    note = f"{c.a} is the run under test, {c.b} the --compare one. ✓ right, ✗ wrong, −missed."
    columns = ["id", "title", "gold", c.a, c.b, "closer"]
    return Table("Papers where the tags differ", columns, rows, note=note, long=True)


def _diff_cells(d: PaperDiff) -> list[str]:
    return [_marked(d.a_tags, d.gold_tags), _marked(d.b_tags, d.gold_tags)]


def _marked(pred: list[str], gold: list[str]) -> str:
    parts = [f"✓{t}" if t in gold else f"✗{t}" for t in pred]
    parts += [f"−{t}" for t in gold if t not in pred]
    return " ".join(parts) or "(none)"


def _winner(d: PaperDiff, a: str, b: str) -> str:
    return {"a": a, "b": b, "tie": "tie"}[d.winner]


def _tags(tags: list[str]) -> str:
    return ", ".join(tags) or "(none)"
