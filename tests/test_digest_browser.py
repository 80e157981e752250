"""The HTML digest as a person sees it: loaded in headless Chromium, scripts and all."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tagger.config.taxonomy import load_taxonomy
from tagger.digest import DigestOptions, build_digest, load_runs, render
from tagger.digest.intro import extractive_intro

DATA = Path(__file__).parent / "data" / "digest"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def chromium(page: Path, profile: Path, *mode: str) -> str:
    assert CHROMIUM is not None
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    done = subprocess.run(
        [CHROMIUM, *flags, *mode, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


class Dom(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.chunks: list[str] = []
        self.title = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1] == "title" and not self.title:
            self.title = data
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.chunks))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    options = DigestOptions(date=dt.date(2024, 3, 15))
    runs = load_runs([DATA / "run1.jsonl", DATA / "run2.jsonl"])
    digest = build_digest(runs, load_taxonomy(DATA / "taxonomy.yaml"), options, extractive_intro)
    file = tmp_path_factory.mktemp("digest") / "digest.html"
    file.write_text(render(digest, "html"), encoding="utf-8")
    return file


@pytest.fixture(scope="module")
def dom(page: Path) -> Dom:
    """The DOM after Chromium loaded the page and ran whatever scripts it found."""
    return Dom(chromium(page, page.parent / "profile", "--dump-dom"))


def test_chromium_shows_hostile_input_as_text_and_runs_none_of_it(dom: Dom) -> None:
    assert "script" not in dom.tags and "img" not in dom.tags
    assert dom.title == "Papers digest — 2024-03-15"  # an onerror handler would have changed it
    assert '<script>alert("title")</script> Diffusion & "Quotes"' in dom.text
    assert "<img src=x onerror=\"document.title='pwned'\"> A sampler" in dom.text


def test_chromium_renders_the_header_intro_sections_and_chips(dom: Dom) -> None:
    text = dom.text
    assert "2024-03-15 Papers digest" in text
    assert "8 papers in 6 sections" in text
    assert "Today: 2 papers on Diffusion models" in text
    for heading in ("Diffusion models · 2 papers", "Video · 1 paper", "Surveys · 1 paper"):
        assert heading in text
