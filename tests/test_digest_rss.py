"""RSS 2.0 that feed readers accept: valid XML, stable GUIDs, RFC 822 dates."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser

from tagger.config.taxonomy import load_taxonomy
from tagger.digest import DigestOptions, Placement, build_digest, load_runs, render

DATA = Path(__file__).parent / "data" / "digest"
RUN1, RUN2 = DATA / "run1.jsonl", DATA / "run2.jsonl"


def feed(runs: list[Path], day: dt.date, all_sections: bool = False) -> str:
    options = DigestOptions(date=day, placement=Placement(all_sections=all_sections))
    digest = build_digest(load_runs(runs), load_taxonomy(DATA / "taxonomy.yaml"), options)
    return render(digest, "rss")


def test_feed_parses_cleanly_with_one_item_per_paper() -> None:
    parsed = feedparser.parse(feed([RUN1, RUN2], dt.date(2024, 3, 15)))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert len(parsed.entries) == 8
    assert parsed.feed.title == "Papers digest"
    assert "8 papers in 6 sections on 2024-03-15" in parsed.feed.description


def test_all_sections_still_lists_each_paper_once() -> None:
    parsed = feedparser.parse(feed([RUN1, RUN2], dt.date(2024, 3, 15), all_sections=True))
    ids = [entry.id for entry in parsed.entries]
    assert len(ids) == len(set(ids)) == 8


def test_guids_come_from_paper_ids_and_stay_the_same_across_runs() -> None:
    day1 = feedparser.parse(feed([RUN1], dt.date(2024, 3, 14)))
    day2 = feedparser.parse(feed([RUN2, RUN1], dt.date(2024, 3, 15)))
    guids1 = {e.title: e.id for e in day1.entries}
    guids2 = {e.title: e.id for e in day2.entries}
    shared = guids1.keys() & guids2.keys()
    assert len(shared) >= 4
    assert all(guids1[t] == guids2[t] for t in shared)
    assert guids1["Pixel Diffusion for Image Editing"] == "tagger-paper:2401.00003"
    assert all(not e.guidislink for e in day1.entries)


def test_guids_are_marked_not_permalinks_and_dates_are_rfc822() -> None:
    root = ET.fromstring(feed([RUN1, RUN2], dt.date(2024, 3, 15)))
    guids = root.findall("./channel/item/guid")
    assert guids and all(g.get("isPermaLink") == "false" for g in guids)
    dates = [e.text or "" for e in root.iter("pubDate")]
    parsed = {parsedate_to_datetime(d).date().isoformat() for d in dates}
    assert parsed == {"2024-03-14", "2024-03-15"}  # 2401.00001 carries its own date


def test_hostile_text_reaches_the_reader_as_text() -> None:
    parsed = feedparser.parse(feed([RUN1], dt.date(2024, 3, 15)))
    entry = next(e for e in parsed.entries if e.id == "tagger-paper:2401.00002")
    assert entry.title.startswith('<script>alert("title")</script>')
    # the description is HTML: the abstract's tags arrive escaped, shown as text by the reader
    assert "&lt;img src=x onerror=" in entry.summary
    assert "<img" not in entry.summary
