"""What a reader sees in md, html, txt and json: hostile text stays text, dates and counts shown."""

from __future__ import annotations

import datetime as dt
import json
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from tagger.config.taxonomy import load_taxonomy
from tagger.digest import Digest, DigestOptions, Placement, build_digest, load_runs, render
from tagger.digest.intro import extractive_intro

DATA = Path(__file__).parent / "data" / "digest"
RUNS = [DATA / "run1.jsonl", DATA / "run2.jsonl"]
HOSTILE_TITLE = '<script>alert("title")</script> Diffusion & "Quotes" \'Single\''
HOSTILE_BLURB = "<img src=x onerror=\"document.title='pwned'\"> A sampler"


def make(top: int | None = None) -> Digest:
    options = DigestOptions(date=dt.date(2024, 3, 15), placement=Placement(top=top))
    taxonomy = load_taxonomy(DATA / "taxonomy.yaml")
    return build_digest(load_runs(RUNS), taxonomy, options, intro=extractive_intro)


class Page(HTMLParser):
    """The elements, attributes, links and visible text of an HTML document."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.hrefs: list[str] = []
        self.chunks: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        self.hrefs += [v or "" for k, v in attrs if k == "href"]

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())


def test_html_shows_hostile_titles_and_abstracts_as_text() -> None:
    page = Page(render(make(), "html"))
    assert "script" not in page.tags and "img" not in page.tags
    assert not [name for name, _ in page.attrs if name.startswith("on")]
    assert HOSTILE_TITLE in page.text
    assert HOSTILE_BLURB in page.text


def test_html_is_email_safe_inline_css_and_tables() -> None:
    page = Page(render(make(), "html"))
    assert "style" not in page.tags and "link" not in page.tags
    assert page.tags.count("table") >= 2
    assert all(h.startswith(("https://", "http://", "#")) for h in page.hrefs)
    assert "https://arxiv.org/abs/2401.00001" in page.hrefs
    assert "https://example.org/paper?a=1&b=2" in page.hrefs  # & was escaped, then decoded


def test_html_shows_date_counts_intro_headings_and_chips() -> None:
    text = Page(render(make(), "html")).text
    assert "2024-03-15" in text
    assert "8 papers in 6 sections" in text
    assert "Today: 2 papers on Diffusion models" in text
    assert "Agents & tool use · 1 paper" in text
    assert "Computer vision" in text  # a chip of 2401.00003


def test_markdown_rendered_by_a_commonmark_renderer_has_no_live_html() -> None:
    source = render(make(), "md")
    page = Page(MarkdownIt("commonmark").render(source))
    assert "script" not in page.tags and "img" not in page.tags
    assert HOSTILE_TITLE in page.text
    assert HOSTILE_BLURB in page.text
    # the bracketed javascript: text in a title must not turn into a link
    assert all(h.startswith("https://") for h in page.hrefs)
    assert "[click](javascript:alert(1))" in page.text


def test_markdown_and_text_show_date_counts_and_skipped() -> None:
    for fmt in ("md", "txt"):
        out = render(make(), fmt)
        assert "Papers digest — 2024-03-15" in out
        assert "8 papers in 6 sections" in out
        assert "Not shown: 1 failed to tag." in out


def test_text_lists_links_under_titles() -> None:
    out = render(make(), "txt")
    assert "* Chain-of-Thought Reasoning in Small Models\n" in out
    assert "  https://arxiv.org/abs/2401.00001\n" in out
    assert "[Reasoning and math] [Agents & tool use]" in out


def test_top_says_how_many_more_a_section_has() -> None:
    digest = make(top=1)
    # Readers do not run tagger: the line says what is left, never which flag cut it.
    assert "1 more in this section." in render(digest, "txt")
    assert "1 more in this section" in Page(render(digest, "html")).text
    assert "--top" not in render(digest, "txt") + render(digest, "html")


def test_json_is_the_sections_structure_with_date_and_counts() -> None:
    data = json.loads(render(make(), "json"))
    assert data["date"] == "2024-03-15"
    assert data["counts"]["papers"] == 8
    assert data["intro"]["source"] == "extractive"
    first = data["sections"][0]
    assert (first["id"], first["label"], first["count"]) == (
        "diffusion-models",
        "Diffusion models",
        2,
    )
    hostile = next(e for e in first["entries"] if e["title"] == HOSTILE_TITLE)
    assert hostile["tags"] == [{"id": "diffusion-models", "label": "Diffusion models"}]
