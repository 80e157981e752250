"""HTML for email clients: tables for layout, inline CSS only, every input string escaped."""

from __future__ import annotations

from html import escape

from tagger.digest.group import slug
from tagger.digest.models import Chip, Digest, Entry, Section, plural
from tagger.digest.text import meta_line, more_text

# Email clients drop <style> blocks and external CSS, so every element carries its own style.
FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
INK, MUTED, ACCENT = "#1f2937", "#6b7280", "#1e3a8a"
S_PAGE = "margin:0;padding:0;background:#f3f4f6;"
S_CARD = f"width:100%;max-width:640px;background:#ffffff;border:1px solid #e5e7eb;{FONT}"
S_HEAD = f"padding:28px 32px 22px;background:{ACCENT};color:#ffffff;"
S_DATE = "font-size:12px;letter-spacing:1px;text-transform:uppercase;color:#c7d2fe;"
S_H1 = "margin:6px 0 0;font-size:26px;line-height:1.25;font-weight:700;color:#ffffff;"
S_COUNTS = "margin-top:8px;font-size:14px;color:#e0e7ff;"
S_CELL = "padding:0 32px;"
S_INTRO = f"margin:22px 0 0;font-size:15px;line-height:1.6;color:{INK};"
S_TOC = f"margin:18px 0 0;padding:12px 16px;background:#f9fafb;font-size:13px;color:{MUTED};"
S_TOC_LINK = f"color:{ACCENT};text-decoration:none;"
S_H2 = (
    f"margin:28px 0 4px;padding-bottom:6px;border-bottom:2px solid {ACCENT};"
    f"font-size:18px;color:{ACCENT};"
)
S_H2_COUNT = f"font-size:13px;font-weight:400;color:{MUTED};"
S_ENTRY = "padding:14px 0;border-bottom:1px solid #f0f0f0;"
S_TITLE = f"font-size:16px;line-height:1.35;font-weight:600;color:{INK};"
S_TITLE_LINK = f"color:{ACCENT};text-decoration:none;"
S_META = f"margin:3px 0 0;font-size:13px;color:{MUTED};"
S_BLURB = f"margin:4px 0 8px;font-size:14px;line-height:1.5;color:{INK};"
S_CHIP = (
    "display:inline-block;margin:0 4px 4px 0;padding:2px 9px;border-radius:10px;"
    "background:#eef2ff;color:#3730a3;font-size:12px;line-height:18px;"
)
S_MORE = f"padding:10px 0 0;font-size:13px;color:{MUTED};"
S_FOOT = f"padding:22px 32px 28px;font-size:12px;line-height:1.5;color:{MUTED};"
S_PREHEADER = "display:none;max-height:0;overflow:hidden;mso-hide:all;"


def e(text: str) -> str:
    """Escape for both element text and quoted attribute values."""
    return escape(text, quote=True)


def render_html(digest: Digest) -> str:
    rows = [_header(digest), _intro(digest), _contents(digest)]
    rows += [_section(section) for section in digest.sections]
    rows.append(_footer(digest))
    return _page(digest, "\n".join(r for r in rows if r))


def _page(digest: Digest, rows: str) -> str:
    title = e(f"{digest.title} — {digest.date}")
    preheader = e(digest.intro.text if digest.intro else digest.summary_line())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body style="{S_PAGE}">
<div style="{S_PREHEADER}">{preheader}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="{S_PAGE}">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="{S_CARD}">
{rows}
</table>
</td></tr>
</table>
</body>
</html>
"""


def _header(digest: Digest) -> str:
    return (
        f'<tr><td style="{S_HEAD}">'
        f'<div style="{S_DATE}">{e(digest.date)}</div>'
        f'<h1 style="{S_H1}">{e(digest.title)}</h1>'
        f'<div style="{S_COUNTS}">{e(digest.summary_line())}</div>'
        "</td></tr>"
    )


def _intro(digest: Digest) -> str:
    if digest.intro is None:
        return ""
    return f'<tr><td style="{S_CELL}"><p style="{S_INTRO}">{e(digest.intro.text)}</p></td></tr>'


def _contents(digest: Digest) -> str:
    if len(digest.sections) < 2:
        return ""
    links = " &middot; ".join(
        f'<a href="#{_anchor(s)}" style="{S_TOC_LINK}">{e(s.label)}</a>&nbsp;({len(s.entries)})'
        for s in digest.sections
    )
    return f'<tr><td style="{S_CELL}"><div style="{S_TOC}">{links}</div></td></tr>'


def _section(section: Section) -> str:
    head = (
        f'<h2 id="{_anchor(section)}" style="{S_H2}">{e(section.label)} '
        f'<span style="{S_H2_COUNT}">&middot; {plural(len(section.entries), "paper")}</span></h2>'
    )
    entries = "".join(_entry(entry) for entry in section.entries)
    return f'<tr><td style="{S_CELL}">{head}{entries}{_more(section)}</td></tr>'


def _more(section: Section) -> str:
    if not section.more:
        return ""
    text = e(more_text(section.more))
    if section.more_url:
        text = f'<a href="{e(section.more_url)}" style="{S_TITLE_LINK}">{text} &rarr;</a>'
    return f'<div style="{S_MORE}">{text}</div>'


def _entry(entry: Entry) -> str:
    title = e(entry.title)
    if entry.url:
        title = f'<a href="{e(entry.url)}" style="{S_TITLE_LINK}">{title}</a>'
    blurb = f'<div style="{S_BLURB}">{e(entry.blurb)}</div>' if entry.blurb else ""
    meta = meta_line(entry.authors, entry.upvotes)
    meta = f'<div style="{S_META}">{e(meta)}</div>' if meta else ""
    return (
        f'<div style="{S_ENTRY}"><div style="{S_TITLE}">{title}</div>'
        f"{meta}{blurb}<div>{_chips(entry.tags)}</div></div>"
    )


def _chips(chips: list[Chip]) -> str:
    return "".join(f'<span style="{S_CHIP}">{e(chip.label)}</span>' for chip in chips)


def _footer(digest: Digest) -> str:
    skipped = digest.skipped_line()
    lines = [f"{e(digest.summary_line())} on {e(digest.date)}."]
    if skipped:
        lines.append(e(skipped))
    if digest.intro is not None and digest.intro.source == "model":
        lines.append("The opening paragraph was written by a language model.")
    lines.append(f"Made by {e(digest.generator)}.")
    return f'<tr><td style="{S_FOOT}">{"<br>".join(lines)}</td></tr>'


def _anchor(section: Section) -> str:
    return "s-" + slug(section.id)
