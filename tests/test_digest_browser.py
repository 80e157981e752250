"""The HTML digest as a person sees it: loaded in headless Chromium, scripts and all."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tagger.digest import DigestOptions, build_digest, load_runs, render
from tagger.digest.intro import extractive_intro
from tagger.taxonomy import load_taxonomy

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


@pytest.fixture
def page(tmp_path: Path) -> Path:
    options = DigestOptions(date=dt.date(2024, 3, 15))
    runs = load_runs([DATA / "run1.jsonl", DATA / "run2.jsonl"])
    digest = build_digest(runs, load_taxonomy(DATA / "taxonomy.yaml"), options, extractive_intro)
    file = tmp_path / "digest.html"
    file.write_text(render(digest, "html"), encoding="utf-8")
    return file


def test_chromium_shows_hostile_input_as_text_and_runs_none_of_it(
    page: Path, tmp_path: Path
) -> None:
    dom = Dom(chromium(page, tmp_path / "profile", "--dump-dom"))
    assert "script" not in dom.tags and "img" not in dom.tags
    assert dom.title == "Papers digest — 2024-03-15"  # an onerror handler would have changed it
    assert '<script>alert("title")</script> Diffusion & "Quotes"' in dom.text
    assert "<img src=x onerror=\"document.title='pwned'\"> A sampler" in dom.text


def test_chromium_renders_the_header_intro_sections_and_chips(page: Path, tmp_path: Path) -> None:
    text = Dom(chromium(page, tmp_path / "profile", "--dump-dom")).text
    assert "2024-03-15 Papers digest" in text
    assert "8 papers in 6 sections" in text
    assert "Today: 2 papers on Diffusion models" in text
    for heading in ("Diffusion models · 2 papers", "Video · 1 paper", "Surveys · 1 paper"):
        assert heading in text


def test_chromium_takes_a_screenshot(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "digest.png"
    chromium(page, tmp_path / "profile", "--window-size=760,1200", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
