"""Validate eval/gold.jsonl against the taxonomy and the labeling guideline (eval/README.md).

Usage: python eval/check_gold.py [GOLD] [--taxonomy PATH] [--samples DIR] [--table]

Checks every record: required fields, tag ids that exist in the taxonomy, no duplicate ids,
titles or tags, summary rules (one line, at most 160 characters, not the title), and, when the
source file is present, that the title really sits at the cited line. Prints per-tag positive
counts (--table prints them as the Markdown table used in eval/README.md). Exits 1 on any error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tagger.config.taxonomy import Taxonomy, load_taxonomy  # noqa: E402
from tagger.ingest.ids import content_id  # noqa: E402
from tagger.normalize import normalize_text  # noqa: E402

FIELDS = ("id", "title", "abstract", "tags", "summary", "source")
MAX_SUMMARY = 160
MIN_POSITIVES = 3
# The first salt of split-0..split-5 whose split puts every tag with >= 3 positives on both
# sides (chosen from label counts only, before any model was scored on either half).
SPLIT_SALT = "split-3"
SPLITS = ("dev", "test")


def split_of(paper_id: str) -> str:
    """'test' or 'dev' for a gold id: about half each, fixed by the id alone."""
    digest = hashlib.sha256(f"{SPLIT_SALT}{paper_id}".encode()).hexdigest()
    return "test" if int(digest, 16) % 2 else "dev"


def check_record(rec: Any, taxonomy: Taxonomy, where: str) -> list[str]:
    """Problems with one gold record, each a sentence naming file:line."""
    if not isinstance(rec, dict):
        return [f"{where}: expected a JSON object."]
    errors = [f"{where}: missing or empty field '{k}'." for k in FIELDS if not rec.get(k)]
    if errors:
        return errors
    tags = rec["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return [f"{where}: 'tags' must be a list of tag ids."]
    errors += [f"{where}: unknown tag '{t}'." for t in tags if t not in taxonomy.by_id]
    if len(set(tags)) != len(tags):
        errors.append(f"{where}: a tag is listed twice.")
    summary = str(rec["summary"])
    if len(summary) > MAX_SUMMARY:
        errors.append(f"{where}: summary has {len(summary)} characters (max {MAX_SUMMARY}).")
    if "\n" in summary or summary != summary.strip():
        errors.append(f"{where}: summary must be one line without surrounding spaces.")
    if normalize_text(summary) == normalize_text(str(rec["title"])):
        errors.append(f"{where}: summary repeats the title.")
    if rec["id"] != content_id(str(rec["title"]), str(rec["abstract"])):
        errors.append(f"{where}: id is not the content id of the title.")
    if rec.get("split") != split_of(str(rec["id"])):
        errors.append(f"{where}: split must be '{split_of(str(rec['id']))}' (split_of(id)).")
    return errors


def check_source(rec: dict[str, Any], samples_root: Path, where: str) -> list[str]:
    """The cited file:line must hold the title (skipped when the file is absent)."""
    path, _, line = str(rec["source"]).rpartition(":")
    file = samples_root / path
    if not file.is_file():
        return []
    lines = file.read_text(encoding="utf-8").splitlines()
    if not line.isdigit() or not 1 <= int(line) <= len(lines):
        return [f"{where}: source line '{rec['source']}' is not in {path}."]
    cited = normalize_text(lines[int(line) - 1])
    if not normalize_text(str(rec["title"])).startswith(cited) or not cited:
        return [f"{where}: {rec['source']} does not hold the title."]
    return []


def split_coverage(counts: dict[str, Counter[str]]) -> list[str]:
    """Tags with enough positives overall that are missing from one split."""
    total = counts["dev"] + counts["test"]
    return [
        f"tag '{tag}' ({n} positives) has none in the {split} split."
        for tag, n in sorted(total.items())
        for split in SPLITS
        if n >= MIN_POSITIVES and not counts[split][tag]
    ]


def check_file(
    gold: Path, taxonomy: Taxonomy, samples_root: Path
) -> tuple[list[str], Counter[str]]:
    errors: list[str] = []
    counts: Counter[str] = Counter()
    by_split: dict[str, Counter[str]] = {split: Counter() for split in SPLITS}
    seen_ids: dict[str, int] = {}
    seen_titles: dict[str, int] = {}
    for number, text in enumerate(gold.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        where = f"{gold}:{number}"
        try:
            rec = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON ({exc.msg}).")
            continue
        problems = check_record(rec, taxonomy, where)
        errors += problems
        if problems:
            continue
        errors += check_source(rec, samples_root, where)
        title_key = normalize_text(rec["title"])
        first = seen_ids.get(rec["id"]) or seen_titles.get(title_key)
        if first:
            errors.append(f"{where}: duplicate of line {first} ('{rec['title']}').")
        seen_ids.setdefault(rec["id"], number)
        seen_titles.setdefault(title_key, number)
        counts.update(rec["tags"])
        by_split[rec["split"]].update(rec["tags"])
    return errors + split_coverage(by_split), counts


def count_table(taxonomy: Taxonomy, counts: Counter[str], markdown: bool) -> str:
    rows = [(t.id, t.group or "", counts.get(t.id, 0)) for t in taxonomy.tags]
    if markdown:
        lines = ["| tag | group | positives |", "| --- | --- | ---: |"]
        lines += [f"| `{tag}` | {group} | {n} |" for tag, group, n in rows]
        return "\n".join(lines)
    width = max(len(tag) for tag, _, _ in rows)
    return "\n".join(f"{tag:<{width}}  {n:>3}" for tag, _, n in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="?", default=str(ROOT / "eval" / "gold.jsonl"))
    parser.add_argument("--taxonomy", default=None, help="taxonomy YAML (default: built-in)")
    parser.add_argument("--samples", default=str(ROOT), help="root that 'source' paths are under")
    parser.add_argument("--table", action="store_true", help="print counts as a Markdown table")
    args = parser.parse_args(argv)
    taxonomy = load_taxonomy(args.taxonomy)
    errors, counts = check_file(Path(args.gold), taxonomy, Path(args.samples))
    print(count_table(taxonomy, counts, args.table))
    records = sum(1 for line in Path(args.gold).read_text(encoding="utf-8").splitlines() if line)
    thin = [t.id for t in taxonomy.tags if counts.get(t.id, 0) < MIN_POSITIVES]
    print(f"\n{records} records, {sum(counts.values())} tag assignments.")
    if thin:
        print(f"Tags with fewer than {MIN_POSITIVES} positives: {', '.join(thin)}.")
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
