"""Shared by the store tests: a small input with known tags, dates and arXiv ids."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

TAXONOMY = Path(__file__).parent / "data" / "eval" / "taxonomy.yaml"

PAPERS = [
    ("2401.00001", "Faster Sampling for Diffusion Models", "2024-01-05", "diffusion"),
    ("2401.00002", "Language Models Plan Robot Actions", "2024-01-20", "llm robotics"),
    ("2402.00003", "Diffusion Policies for Robot Grasping", "2024-02-02", "diffusion robotics"),
    (None, "Prompting Large Language Models Without Labels", "2024-02-15", "llm"),
]


def write_papers(path: Path) -> Path:
    lines = []
    for arxiv, title, date, _ in PAPERS:
        record: dict[str, Any] = {
            "title": title,
            "abstract": f"We study {title.lower()} with a quokka benchmark.",
            "date": date,
        }
        if arxiv:
            record["arxiv_id"] = arxiv
        lines.append(json.dumps(record) + "\n")
    path.write_text("".join(lines))
    return path


def tag_by_title(body: dict[str, Any]) -> dict[str, Any]:
    """The fake server's answer: the tags listed for the title in PAPERS."""
    title = re.search(r"Title: (.*)", body["messages"][-1]["content"])
    assert title is not None
    tags = next(t for _, name, _, t in PAPERS if name == title.group(1).strip()).split()
    return {"content": json.dumps({"tags": tags, "summary": f"Studies {title.group(1)}."})}


def remote(base_url: str) -> list[str]:
    return ["--model", "openai/fake", "--api-base", base_url, "--taxonomy", str(TAXONOMY)]


def rows(conn: sqlite3.Connection, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(sql, params)]
