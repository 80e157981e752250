"""Sections: per tag or group, biggest first, each paper once unless --all-sections."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tagger.config.taxonomy import load_taxonomy
from tagger.digest import Digest, DigestOptions, Placement, build_digest, load_runs
from tagger.digest.intro import compose_intro, extractive_intro
from tagger.errors import ModelError

DATA = Path(__file__).parent / "data" / "digest"
RUNS = [DATA / "run1.jsonl", DATA / "run2.jsonl"]
DAY = dt.date(2024, 3, 15)


def make(placement: Placement | None = None, sent: frozenset[str] = frozenset()) -> Digest:
    options = DigestOptions(date=DAY, placement=placement or Placement(), sent=sent)
    return build_digest(load_runs(RUNS), load_taxonomy(DATA / "taxonomy.yaml"), options)


def headings(digest: Digest) -> list[tuple[str, int]]:
    return [(s.label, s.count) for s in digest.sections]


def test_sections_use_taxonomy_labels_and_are_ordered_by_size() -> None:
    assert headings(make()) == [
        ("Diffusion models", 2),
        ("Reasoning and math", 2),
        ("Agents & tool use", 1),
        ("quantum-ml", 1),  # a tag the taxonomy lacks shows its id
        ("Surveys", 1),
        ("Video", 1),
    ]


def test_a_paper_with_several_tags_appears_once_under_its_first() -> None:
    digest = make()
    where = [s.id for s in digest.sections for e in s.entries if e.id == "2401.00001"]
    assert where == ["reasoning"]
    assert digest.counts.papers == 8


def test_all_sections_repeats_a_paper_under_each_tag_but_counts_it_once() -> None:
    digest = make(Placement(all_sections=True))
    where = [s.id for s in digest.sections for e in s.entries if e.id == "2401.00001"]
    assert sorted(where) == ["agents", "reasoning"]
    assert dict(headings(digest))["Diffusion models"] == 4
    assert digest.counts.papers == 8


def test_group_by_taxonomy_group_puts_ungrouped_tags_last_under_other() -> None:
    digest = make(Placement(group_by="group"))
    assert headings(digest) == [
        ("Language models", 3),
        ("Generative models", 2),
        ("Vision", 1),
        ("Other", 2),
    ]


def test_top_limits_entries_per_section_but_keeps_the_section_count() -> None:
    digest = make(Placement(group_by="group", top=1))
    language = digest.sections[0]
    assert (language.count, len(language.entries)) == (3, 1)
    assert digest.counts.beyond_top == 4  # 2 + 1 + 0 + 1 cut from the four sections
    assert (digest.counts.papers, digest.counts.shown) == (8, 4)
    assert digest.summary_line() == "4 of 8 papers in 4 sections"


def test_tags_filter_places_papers_under_the_first_wanted_tag() -> None:
    digest = make(Placement(only_tags={"agents"}))
    assert headings(digest) == [("Agents & tool use", 2)]
    assert {e.id for e in digest.sections[0].entries} == {"2401.00001", "h5f2a9e01c3d4"}
    assert digest.counts.filtered_out == 6


def test_already_sent_ids_and_their_duplicates_are_left_out() -> None:
    digest = make(sent=frozenset({"2401.00001", "2401.00009"}))
    shown = {e.id for e in digest.unique_entries()}
    assert not shown & {"2401.00001", "2401.00009"}
    assert digest.counts.already_sent == 2


def test_entries_link_to_arxiv_or_their_url_and_never_to_javascript() -> None:
    links = {e.id: e.url for e in make().unique_entries()}
    assert links["2401.00001"] == "https://arxiv.org/abs/2401.00001"
    assert links["2401.00003"] == "https://example.org/paper?a=1&b=2"
    assert links["h5f2a9e01c3d4"] is None  # content id, no url: nothing to link
    assert links["h77aa0b12e5f6"] is None  # javascript: url is dropped


def test_no_intro_unless_a_writer_is_given() -> None:
    assert make().intro is None


def test_extractive_intro_names_the_biggest_sections() -> None:
    digest = make()
    text = extractive_intro(digest.sections)
    assert text == (
        "Today: 2 papers on Diffusion models, 2 on Reasoning and math, 1 on Agents & tool use"
        " and 3 more in 3 other sections."
    )


def test_a_model_intro_is_tidied_to_one_paragraph_and_marked_as_model_written() -> None:
    sections = make().sections
    intro = compose_intro(sections, lambda s: f"  Big day\n\nfor {s[0].label}.  ")
    assert (intro.text, intro.source) == ("Big day for Diffusion models.", "model")


def test_a_failing_model_intro_falls_back_to_the_extractive_one_and_says_why() -> None:
    def broken(_: object) -> str:
        raise ModelError("the endpoint timed out.")

    sections = make().sections
    intro = compose_intro(sections, broken)
    assert intro.source == "extractive"
    assert intro.text.startswith("Today: 2 papers on Diffusion models")
    assert intro.fallback_reason is not None and "timed out" in intro.fallback_reason


def test_packaged_taxonomy_labels_and_groups_resolve() -> None:
    options = DigestOptions(date=DAY, placement=Placement(group_by="group"))
    digest = build_digest(load_runs(RUNS), load_taxonomy(), options)
    labels = [s.label for s in digest.sections]
    assert "Generative models" in labels
    assert "Language models" in labels


def test_untagged_papers_get_their_own_last_section() -> None:
    from tagger.digest.load import LoadedRuns
    from tagger.records import TaggedPaper

    def paper(pid: str, tags: list[str]) -> TaggedPaper:
        return TaggedPaper(
            id=pid, title=pid, summary="s", tags=tags, model="m", prompt="p", source="f:1"
        )

    runs = LoadedRuns(papers=[paper("h1", []), paper("h2", ["video"]), paper("h3", [])])
    digest = build_digest(runs, load_taxonomy(DATA / "taxonomy.yaml"), DigestOptions(date=DAY))
    assert headings(digest) == [("Video", 1), ("Untagged", 2)]
