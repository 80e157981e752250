"""`tagger view` as a person sees it: pages loaded in headless Chromium from the loopback server,
scripts and charts included, no network."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from view_server import build_history, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def chromium(url: str, profile: Path, *mode: str) -> str:
    assert CHROMIUM is not None
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1400",
        f"--user-data-dir={profile}",
    ]
    done = subprocess.run(
        [CHROMIUM, *flags, *mode, url], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = build_history(tmp_path_factory.mktemp("view-browser"))
    with serving(store) as url:
        yield url


def test_papers_page_renders_escaped(site: str, tmp_path: Path) -> None:
    dom = chromium(f"{site}/papers?q=Hostile", tmp_path / "p", "--dump-dom")
    assert "Hostile title" in dom and "1 paper" in dom
    assert "<script>alert" not in dom and "&lt;script&gt;" in dom
    assert 'class="chip' in dom


def test_eval_comparison_filters_run_and_charts_draw(site: str, tmp_path: Path) -> None:
    evals = chromium(f"{site}/evals", tmp_path / "e", "--dump-dom")
    assert re.search(r"<polyline[^>]+points=\"[\d., ]+\"", evals)  # the history line has points
    ids = sorted({int(n) for n in re.findall(r'href="/evals/(\d+)"', evals)})
    dom = chromium(f"{site}/evals/{ids[-1]}", tmp_path / "c", "--dump-dom")
    # app.js ran (the page's own script, allowed by its CSP): it counts the rows it shows
    assert re.search(r"12 of 12 papers shown", dom), dom[-2000:]
    bars = re.findall(r'<rect class="bar"[^>]*width="([\d.]+)"', dom)
    assert bars and any(float(w) > 0 for w in bars)
    assert "B vs A" in dom


@pytest.mark.skipif(
    not Path(__file__).parent.parent.joinpath("docs").is_dir(), reason="no docs folder"
)
def test_screenshots_render(site: str, tmp_path: Path) -> None:
    """Screenshots like those in docs/ (regenerate them with TAGGER_SCREENSHOTS=docs)."""
    import os

    folder = Path(os.environ.get("TAGGER_SCREENSHOTS") or tmp_path)
    evals = chromium(f"{site}/evals", tmp_path / "s0", "--dump-dom")
    last = max(int(n) for n in re.findall(r'href="/evals/(\d+)"', evals))
    for name, path in (
        ("view-papers.png", "/papers"),
        ("view-evals.png", "/evals"),
        ("view-compare.png", f"/evals/{last}"),
    ):
        target = folder / name
        chromium(f"{site}{path}", tmp_path / f"profile-{name}", f"--screenshot={target}")
        assert target.stat().st_size > 10_000
