"""Small HTML building blocks; every piece of text from the store goes through `esc`."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

from tagger.latex import latex_to_text

STATIC = "/static"


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def shown(text: object) -> str:
    """Title/summary text as a reader sees it: LaTeX as Unicode, then escaped."""
    return esc(latex_to_text(str(text or "")))


def link(href: str, text: str, *, cls: str = "") -> str:
    """A link; only http(s) and site-relative targets (an abstract cannot smuggle javascript:)."""
    if not (href.startswith(("http://", "https://", "/", "?"))):
        return text
    klass = f' class="{esc(cls)}"' if cls else ""
    return f'<a href="{esc(href)}"{klass}>{text}</a>'


def query(base: str, params: Mapping[str, object | Iterable[str]]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None or value == "":
            continue
        if isinstance(value, list | tuple):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return f"{base}?{urlencode(pairs)}" if pairs else base


def chip(tag: str, *, state: str = "", label: str | None = None, href: str | None = None) -> str:
    """A tag chip; state is '', 'right', 'wrong' or 'missed' (colour on comparisons)."""
    title = f' title="{esc(label)}"' if label else ""
    body = f'<span class="chip {esc(state)}"{title}>{esc(tag)}</span>'
    return link(href, body) if href else body


def chips(tags: Iterable[str], labels: Mapping[str, str] | None = None) -> str:
    return " ".join(chip(t, label=(labels or {}).get(t)) for t in tags)


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], *, cls: str = "") -> str:
    """Cells are HTML already (escape text with esc before)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def number(value: object, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return esc(value)


def money(value: object) -> str:
    return "unknown" if value is None else f"${float(str(value)):.4f}"


NAV = (("/papers", "Papers"), ("/runs", "Runs"), ("/evals", "Evals"))


def page(title: str, body: str, *, active: str = "", inline: tuple[str, str] | None = None) -> str:
    """A whole page. `inline` = (css, js) makes it self-contained (eval reports as one file)."""
    if inline is None:
        assets = (
            f'<link rel="stylesheet" href="{STATIC}/style.css">'
            f'<script src="{STATIC}/app.js" defer></script>'
        )
        nav = "".join(
            f'<a href="{href}" class="{"active" if href == active else ""}">{name}</a>'
            for href, name in NAV
        )
        header = f'<header><span class="brand">tagger</span><nav>{nav}</nav></header>'
    else:
        css, js = inline
        assets = f"<style>{css}</style><script>{js}</script>"
        header = '<header><span class="brand">tagger</span></header>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · tagger</title>{assets}</head>"
        f"<body>{header}<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )
