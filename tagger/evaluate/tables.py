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


def header_lines(report: EvalReport) -> list[str]:
    lines = [
        f"Gold: {report.gold.path} ({report.gold.papers} papers, split {report.gold.split}) · "
        f"taxonomy "
        f"{report.taxonomy.name} ({report.taxonomy.path})"
    ]
    for s in report.systems:
        identity = f"{s.model} · {s.prompt} · max {s.max_tags} tags"
        lines.append(f"{s.label}: {identity} · predictions {s.predictions}")
    return lines + [f"Note: {note}" for note in report.notes]


def tables(report: EvalReport) -> list[Table]:
    out = [metrics_table(report), per_tag_table(report.systems)]
    out += [t for t in (failed_table(report), faithfulness_table(report)) if t.rows]
    out += [t for t in (consistency_table(report),) if t.rows]
    if report.comparison is not None:
        out.append(diff_table(report))
    return out


def metrics_table(report: EvalReport) -> Table:
    systems = report.systems
    columns = ["metric", *[s.label for s in systems]]
    if len(systems) > 1:
        columns.append(f"{systems[1].label} − {systems[0].label}")
    gate = {c.metric: c for c in report.gate.checks} if report.gate else {}
    if gate:
        columns += ["baseline", "drop", "gate"]
    names = _metric_names(systems[0].metrics)
    rows = [_metric_row(name, report, gate) for name in names]
    marks = [name in gate and gate[name].failed for name in names]
    align = "l" + "r" * (len(columns) - 1)
    return Table("Metrics", columns, rows, align=align, marks=marks, note=_gate_note(report))


def _metric_row(name: str, report: EvalReport, gate: dict[str, GateCheck]) -> list[str]:
    row = [
        name,
        *[fmt_metric(name, s.metrics[name]) if name in s.metrics else "" for s in report.systems],
    ]
    if report.comparison is not None:
        delta = report.comparison.deltas.get(name)
        row.append("" if delta is None else _signed(name, delta))
    if gate:
        check = gate.get(name)
        row += (
            [fmt_metric(name, check.baseline), _signed(name, check.drop), _verdict(check.failed)]
            if check
            else ["", "", ""]
        )
    return row


def _metric_names(metrics: dict[str, float]) -> list[str]:
    known = [m for m in METRIC_NAMES if m in metrics]
    return known + sorted(set(metrics) - set(known))


def _verdict(failed: bool) -> str:
    return "FAIL" if failed else "ok"


def _gate_note(report: EvalReport) -> str:
    gate = report.gate
    if gate is None:
        return ""
    verdict = "passed" if gate.passed else "FAILED"
    notes = [f"Gate {verdict}: baseline {gate.baseline}, max drop {gate.max_drop:g}."]
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
    note = (
        f"Per paper by Jaccard: {c.a} better on {c.wins}, {c.b} better on {c.losses}, "
        f"tied on {c.ties}. ✓ right, ✗ wrong, −missed."
    )
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
