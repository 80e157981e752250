"""One eval as a page: metrics with their interval, per-tag chart, tag confusion, and for a
comparison each paper side by side. The same HTML serves `tagger view` and `eval -o X.html`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagger.view.charts import bar_chart
from tagger.view.html import chip, esc, number, page, shown, table

if TYPE_CHECKING:
    from tagger.evaluate.models import EvalReport, PaperResult, SystemResult

STATIC_DIR = Path(__file__).parent / "static"
COUNT_METRICS = frozenset({"papers", "failed", "cached"})
SHOWN_METRICS = (
    "micro_f1 micro_precision micro_recall macro_f1 exact_match mean_jaccard rouge1 rougeL"
    " compliance unfaithful_rate papers failed cached cost_usd_total"
).split()


def eval_page(report: EvalReport, *, title: str = "Eval", standalone: bool = False) -> str:
    """The whole page; standalone inlines the CSS and JS (one file, works offline)."""
    sections = [_header(report), _notes(report), _gate(report)]
    for system in report.systems:
        sections.append(_system(system))
    if report.comparison is not None and len(report.systems) > 1:
        sections.append(_comparison(report))
    inline = None
    if standalone:
        css = (STATIC_DIR / "style.css").read_text(encoding="utf-8")
        js = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
        inline = (css, js)
    return page(title, "".join(sections), active="/evals", inline=inline)


def _header(report: EvalReport) -> str:
    gold = report.gold
    return (
        f'<p class="meta">{esc(report.created_at)} · gold {esc(gold.path)} '
        f"({gold.papers} papers, <code>{esc(gold.hash[:12])}</code>) · taxonomy "
        f"{esc(report.taxonomy.name)} <code>{esc(report.taxonomy.hash[:12])}</code> · tagger "
        f"{esc(report.tagger_version)}</p>"
    )


def _notes(report: EvalReport) -> str:
    if not report.notes:
        return ""
    items = "".join(f"<li>{esc(note)}</li>" for note in report.notes)
    return f'<ul class="notes">{items}</ul>'


def _gate(report: EvalReport) -> str:
    gate = report.gate
    if gate is None:
        return ""
    rows = [
        [
            esc(c.metric),
            number(c.baseline),
            number(c.current),
            ("worse by " if c.drop > 0 else "better by " if c.drop < 0 else "same ")
            + (f"{abs(c.drop):.3f}" if c.drop else ""),
            '<span class="bad">FAIL</span>' if c.failed else "ok",
        ]
        for c in gate.checks
    ]
    warnings = "".join(f"<li>{esc(w)}</li>" for w in gate.warnings)
    return (
        f"<h2>Gate against {esc(gate.baseline)} (max drop {gate.max_drop:.3f})</h2>"
        + table(["metric", "baseline", "now", "vs baseline", ""], rows, cls="metrics")
        + (f'<ul class="notes">{warnings}</ul>' if warnings else "")
    )


def _failures(system: SystemResult) -> str:
    failed = [p for p in system.papers if p.status != "ok"]
    if not failed:
        return ""
    rows = [[shown(p.title), esc(p.error)] for p in failed]
    return f"<h3>Failed papers ({len(failed)})</h3>" + table(["paper", "reason"], rows)


def _every_paper(system: SystemResult) -> str:
    wrong = sum(1 for p in system.papers if not p.exact)
    rows = [
        [shown(p.title), _tag_chips(p.pred_tags, set(p.gold_tags)), _summary(p)]
        for p in system.papers
    ]
    return (
        f"<details><summary>Every paper ({len(rows)}; {wrong} without exactly the gold tags)"
        "</summary>"
        + table(["paper", "tags (green right, red wrong, struck missed)", "summary"], rows)
        + "</details>"
    )


def _system(system: SystemResult) -> str:
    interval = getattr(system, "micro_f1_ci", None)
    rows = []
    for name in SHOWN_METRICS:
        if name not in system.metrics:
            continue
        raw = system.metrics[name]
        value = str(int(raw)) if name in COUNT_METRICS else number(raw)
        if name == "micro_f1" and interval is not None:
            value += (
                f' <span class="ci">{interval.level:.0%} interval '
                f"{interval.low:.3f}–{interval.high:.3f} ({interval.resamples} resamples)</span>"
            )
        rows.append([esc(name), value])
    per_tag = sorted(
        (t for t in system.per_tag if t.support or t.predicted), key=lambda t: (-t.support, t.tag)
    )
    chart = bar_chart(
        [(t.tag, [t.precision, t.recall, t.f1]) for t in per_tag],
        ["precision", "recall", "F1"],
        title=f"Per-tag precision, recall and F1 of {system.label}",
        max_value=1.0,
    )
    return (
        f'<section class="system"><h2>{esc(system.label)}: {esc(system.model)} · '
        f"{esc(system.prompt)}</h2>"
        + table(["metric", "value"], rows, cls="metrics")
        + "<h3>Per tag (by gold support)</h3>"
        + chart
        + "<h3>Confusion: which gold tag was answered as which</h3>"
        + _confusion(system.papers)
        + _failures(system)
        + _every_paper(system)
        + "</section>"
    )


def confusion_pairs(papers: list[PaperResult]) -> Counter[tuple[str, str]]:
    """(gold tag the model missed, tag it gave instead) over papers with both kinds of error."""
    pairs: Counter[tuple[str, str]] = Counter()
    for paper in papers:
        missed = set(paper.gold_tags) - set(paper.pred_tags)
        extra = set(paper.pred_tags) - set(paper.gold_tags)
        for gold in missed:
            for given in extra:
                pairs[(gold, given)] += 1
    return pairs


def _confusion(papers: list[PaperResult]) -> str:
    pairs = confusion_pairs(papers).most_common(25)
    if not pairs:
        return '<p class="empty">No paper both missed a gold tag and gave another.</p>'
    top = pairs[0][1]
    rows = [
        [
            chip(gold, state="missed"),
            chip(given, state="wrong"),
            f'<span class="meter" style="width:{count / top * 120:.0f}px"></span> {count}',
        ]
        for (gold, given), count in pairs
    ]
    return table(["gold tag missed", "answered instead", "papers"], rows, cls="confusion")


def _tag_chips(tags: list[str], gold: set[str]) -> str:
    given = " ".join(chip(t, state="right" if t in gold else "wrong") for t in tags)
    missed = " ".join(chip(t, state="missed") for t in sorted(gold - set(tags)))
    return given + (f" {missed}" if missed else "")


def _comparison(report: EvalReport) -> str:
    assert report.comparison is not None
    a, b = report.systems[0], report.systems[1]
    comp = report.comparison
    b_by_id = {p.id: p for p in b.papers}
    rows = []
    for pa in a.papers:
        pb = b_by_id.get(pa.id)
        if pb is None:
            continue
        rows.append(_side_by_side(pa, pb))
    deltas = " · ".join(f"{esc(k)} {v:+.3f}" for k, v in sorted(comp.deltas.items()))
    return (
        f'<section class="comparison"><h2>B vs A: {esc(b.label)} against {esc(a.label)}</h2>'
        f"<p>A ({esc(a.model)} · {esc(a.prompt)}) is the run under test; B ({esc(b.model)} · "
        f"{esc(b.prompt)}) is <code>--compare</code>. By tag Jaccard to gold: A closer on "
        f"{comp.wins}, B closer on {comp.losses}, tie on {comp.ties}.</p>"
        f'<p class="deltas">B vs A: {deltas}</p>'
        '<p class="filters">'
        '<label><input type="checkbox" data-filter="differ"> only where A and B differ</label>'
        '<label><input type="checkbox" data-filter="bworse"> only where B is worse</label>'
        ' <span class="shown-count"></span></p>'
        '<table class="side-by-side"><thead><tr><th>paper</th><th>gold</th><th>A tags</th>'
        "<th>A summary</th><th>B tags</th><th>B summary</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _side_by_side(pa: PaperResult, pb: PaperResult) -> str:
    gold = set(pa.gold_tags)
    differ = set(pa.pred_tags) != set(pb.pred_tags) or pa.summary != pb.summary
    worse = pb.jaccard < pa.jaccard
    attrs: dict[str, Any] = {"data-differ": int(differ), "data-bworse": int(worse)}
    data = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    verdict = "b-worse" if worse else ("b-better" if pb.jaccard > pa.jaccard else "")
    return (
        f'<tr class="{verdict}" {data}><td>{shown(pa.title)}</td>'
        f"<td>{' '.join(chip(t) for t in pa.gold_tags)}</td>"
        f"<td>{_tag_chips(pa.pred_tags, gold)}</td><td>{_summary(pa)}</td>"
        f"<td>{_tag_chips(pb.pred_tags, gold)}</td><td>{_summary(pb)}</td></tr>"
    )


def _summary(paper: PaperResult) -> str:
    if paper.status != "ok":
        return f'<span class="bad">failed: {esc(paper.error)}</span>'
    flags = []
    if paper.unsupported:
        flags.append("not in the abstract: " + ", ".join(paper.unsupported))
    flags.extend(getattr(paper, "summary_problems", None) or [])
    notes = "".join(f'<br><span class="bad">{esc(flag)}</span>' for flag in flags)
    return shown(paper.summary) + notes
