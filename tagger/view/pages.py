"""The viewer's pages over the store: papers, one paper, runs, one run, evals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tagger.view.charts import Line, bar_chart, line_chart
from tagger.view.data import PaperPage, PaperQuery
from tagger.view.html import chip, chips, esc, link, money, number, page, query, shown, table


def papers(result: PaperPage, q: PaperQuery, labels: Mapping[str, str]) -> str:
    current = _params(q)
    tag_bar = " ".join(
        chip(
            f"{tag} {count}",
            state="on" if tag in q.tags else "",
            label=labels.get(tag),
            href=query("/papers", {**current, "tag": _toggle(q.tags, tag), "page": None}),
        )
        for tag, count in result.tag_counts
    )
    items = "".join(_paper_item(row, labels) for row in result.rows)
    if not items:
        items = '<p class="empty">No paper matches these filters.</p>'
    body = (
        _filter_form(q, result.models)
        + f'<div class="tagbar">{tag_bar}</div>'
        + f'<p class="count">{result.total} paper{"s" if result.total != 1 else ""}'
        + (f" · page {result.page} of {result.pages}" if result.pages > 1 else "")
        + "</p>"
        + f'<div class="papers">{items}</div>'
        + _pager("/papers", current, result.page, result.pages)
    )
    return page("Papers", body, active="/papers")


def _params(q: PaperQuery) -> dict[str, Any]:
    return {
        "tag": q.tags,
        "since": q.since,
        "until": q.until,
        "model": q.model,
        "q": q.search,
        "sort": q.sort if q.sort != "new" else "",
    }


def _toggle(tags: list[str], tag: str) -> list[str]:
    return [t for t in tags if t != tag] if tag in tags else [*tags, tag]


def _filter_form(q: PaperQuery, models: list[str]) -> str:
    options = "".join(
        f'<option value="{esc(m)}"{" selected" if m == q.model else ""}>{esc(m)}</option>'
        for m in models
    )
    hidden = "".join(f'<input type="hidden" name="tag" value="{esc(t)}">' for t in q.tags)
    old = " selected" if q.sort == "old" else ""
    return (
        '<form class="filters" method="get" action="/papers">'
        f'<input type="search" name="q" value="{esc(q.search)}" placeholder="Search title, '
        'abstract, summary">'
        f'<label>from <input type="date" name="since" value="{esc(q.since)}"></label>'
        f'<label>to <input type="date" name="until" value="{esc(q.until)}"></label>'
        f'<select name="model"><option value="">any model</option>{options}</select>'
        f'<select name="sort"><option value="new">newest first</option>'
        f'<option value="old"{old}>oldest first</option></select>'
        f'{hidden}<button type="submit">Filter</button></form>'
    )


def authors_line(authors: list[str]) -> str:
    names = [str(a) for a in authors if str(a).strip()]
    if not names:
        return ""
    shown_names = ", ".join(names[:3]) + (" et al." if len(names) > 3 else "")
    return esc(shown_names)


def paper_url(row: Mapping[str, Any]) -> str:
    if row.get("url"):
        return str(row["url"])
    if row.get("arxiv_id"):
        return f"https://arxiv.org/abs/{row['arxiv_id']}"
    return ""


def _paper_item(row: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    title = shown(row["title"])
    url = paper_url(row)
    heading = link(url, title) if url else title
    status = "" if row.get("status") == "ok" else ' <span class="badge failed">failed</span>'
    abstract = (
        f"<details><summary>Abstract</summary><p>{shown(row['abstract'])}</p></details>"
        if row.get("abstract")
        else ""
    )
    meta = [authors_line(row.get("authors") or []), esc(row.get("day")), esc(row.get("model"))]
    meta.append(link(f"/papers/{int(row['paper_no'])}", "every answer"))
    return (
        f'<article class="paper"><h2>{heading}{status}</h2>'
        f'<p class="meta">{" · ".join(part for part in meta if part)}</p>'
        + f'<p class="tags">{chips(row.get("tags") or [], labels)}</p>'
        + f'<p class="summary">{shown(row.get("summary") or row.get("error") or "")}</p>'
        + abstract
        + "</article>"
    )


def _pager(base: str, params: dict[str, Any], current: int, pages: int) -> str:
    if pages <= 1:
        return ""
    parts = []
    if current > 1:
        parts.append(link(query(base, {**params, "page": current - 1}), "← newer"))
    parts.append(f"<span>page {current} / {pages}</span>")
    if current < pages:
        parts.append(link(query(base, {**params, "page": current + 1}), "older →"))
    return f'<nav class="pager">{" ".join(parts)}</nav>'


def paper(detail: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    url = paper_url(detail)
    rows = [
        [
            link(f"/runs/{int(a['run_id'])}", f"#{int(a['run_id'])}") + f" {esc(a['kind'])}",
            esc(a["started_at"]),
            esc(a["model"]),
            esc(a["prompt"]),
            chips(a["tags"], labels),
            shown(a["summary"]) if a["status"] == "ok" else f"<b>failed</b>: {esc(a['error'])}",
            "cached" if a["cached"] else money(a["cost_usd"]),
        ]
        for a in detail["answers"]
    ]
    body = (
        f'<p class="meta">{authors_line(detail.get("authors") or [])} · {esc(detail.get("date"))}'
        + (" · " + link(url, esc(url)) if url else "")
        + "</p>"
        + f'<p class="abstract">{shown(detail.get("abstract") or "")}</p>'
        + "<h2>Every answer it got</h2>"
        + table(["run", "when", "model", "prompt", "tags", "summary", "cost"], rows)
    )
    return page(latex_title(detail["title"]), body, active="/papers")


def latex_title(text: str) -> str:
    from tagger.latex import latex_to_text

    return latex_to_text(text)


def runs(rows: list[dict[str, Any]], total: int, current: int) -> str:
    from tagger.view.data import PAGE_SIZE

    table_rows = [
        [
            link(f"/runs/{int(r['id'])}", f"#{int(r['id'])}"),
            esc(r["kind"]),
            f'<span class="badge {esc(r["status"])}">{esc(r["status"])}</span>',
            esc(r["started_at"]),
            esc(r["model"]),
            esc(r["prompt"]),
            number(r["unique_count"]),
            number(r["tagged"]),
            number(r["cached"]),
            f'<span class="{"bad" if r["failed"] else ""}">{number(r["failed"])}</span>',
            money(r["cost_usd"]),
            _duration(r["wall_time_s"]),
        ]
        for r in rows
    ]
    headers = ["run", "kind", "status", "started", "model", "prompt", "unique", "tagged"]
    headers += ["cached", "failed", "spend", "took"]
    pages = max(1, -(-total // PAGE_SIZE))
    body = (
        f'<p class="count">{total} run{"s" if total != 1 else ""}</p>'
        + (table(headers, table_rows) if rows else '<p class="empty">No runs yet.</p>')
        + _pager("/runs", {}, current, pages)
    )
    return page("Runs", body, active="/runs")


def _duration(seconds: object) -> str:
    if seconds is None:
        return "–"
    value = float(str(seconds))
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def run(detail: Mapping[str, Any]) -> str:
    manifest = detail.get("manifest")
    failures = [
        [
            link(f"/papers/{int(f['paper_no'])}", shown(f["title"])),
            esc(f["error"]),
            (
                f"<details><summary>raw response</summary><pre>{esc(f['raw_response'])}</pre>"
                "</details>"
            )
            if f.get("raw_response")
            else '<span class="empty">no raw response kept</span>',
        ]
        for f in detail["failures"]
    ]
    facts = [
        ("status", f'<span class="badge {esc(detail["status"])}">{esc(detail["status"])}</span>'),
        ("command", f"<code>{esc(detail['command'])}</code>"),
        ("model", esc(detail["model"])),
        ("api base", esc(detail["api_base"])),
        ("prompt", f"{esc(detail['prompt'])} <code>{esc(detail['prompt_hash'])}</code>"),
        ("taxonomy", f"{esc(detail['taxonomy'])} <code>{esc(detail['taxonomy_hash'])}</code>"),
        ("started / finished", f"{esc(detail['started_at'])} / {esc(detail['finished_at'])}"),
        ("papers", f"{number(detail['input_count'])} in, {number(detail['unique_count'])} unique"),
        (
            "answers",
            f"{number(detail['tagged'])} tagged, {number(detail['cached'])} cached, "
            f"{number(detail['failed'])} failed",
        ),
        (
            "tokens",
            f"{number(detail['prompt_tokens'])} in, {number(detail['completion_tokens'])} out",
        ),
        ("spend", money(detail["cost_usd"])),
        ("tagger", esc(detail["tagger_version"])),
    ]
    facts_html = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    chart = bar_chart(
        [(tag, [float(count)]) for tag, count in detail["tag_counts"][:40]],
        ["papers"],
        title="Papers per tag",
    )
    eval_link = (
        "<p>" + link(f"/evals/{int(detail['id'])}", "Open this eval's report") + "</p>"
        if detail.get("eval_report")
        else ""
    )
    body = (
        f'<table class="facts">{facts_html}</table>{eval_link}'
        + "<h2>Tags</h2>"
        + chart
        + f"<h2>Failures ({len(failures)})</h2>"
        + (table(["paper", "reason", ""], failures) if failures else '<p class="empty">None.</p>')
        + "<h2>Manifest</h2>"
        + f"<details><summary>OUT.run.json</summary><pre>{esc(json.dumps(manifest, indent=2))}"
        "</pre></details>"
    )
    return page(f"Run #{int(detail['id'])}", body, active="/runs")


def evals(history: list[dict[str, Any]]) -> str:
    rows = [
        [
            link(f"/evals/{int(e['run_id'])}", f"#{int(e['run_id'])}"),
            esc(e["created_at"]),
            esc(e["label"]),
            esc(e["model"]),
            esc(e["prompt"]),
            f"<code>{esc(str(e.get('gold_hash') or '')[:12])}</code>",
            number(e["metrics"].get("micro_f1")),
            number(e["metrics"].get("macro_f1")),
            number(e["metrics"].get("rouge1")),
        ]
        for e in reversed(history)
    ]
    series: dict[str, list[tuple[str, float]]] = {}
    for e in history:
        if "micro_f1" in e["metrics"]:
            name = f"{e['model']} · {e['prompt']}"
            series.setdefault(name, []).append(
                (str(e["created_at"]), float(e["metrics"]["micro_f1"]))
            )
    chart = line_chart(
        [Line(name, points) for name, points in series.items()],
        title="micro-F1 over time, per model and prompt",
        y_label="micro-F1",
    )
    headers = ["eval", "when", "system", "model", "prompt", "gold", "micro-F1", "macro-F1"]
    body = (
        "<h2>micro-F1 over time</h2>"
        + chart
        + "<h2>Every eval</h2>"
        + (table([*headers, "ROUGE-1"], rows) if rows else '<p class="empty">No evals yet.</p>')
    )
    return page("Evals", body, active="/evals")
