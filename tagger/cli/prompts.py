"""`tagger prompts list|show NAME@vN`."""

from __future__ import annotations

import json

import click


@click.group()
def prompts() -> None:
    """List and show versioned prompts (prompts/<name>/v<N>.yaml)."""


@prompts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_(as_json: bool) -> None:
    """Every prompt version found (./prompts first, then the packaged ones)."""
    from tagger.config.prompts import list_prompts

    specs = list_prompts()
    if as_json:
        rows = [{"ref": s.ref, "hash": s.content_hash, "path": s.path} for s in specs]
        click.echo(json.dumps(rows, indent=2))
        return
    for spec in specs:
        click.echo(f"{spec.ref:24} {spec.content_hash}  {spec.description}")


@prompts.command("show")
@click.argument("ref")
@click.option("--render", "render_title", default=None, help="Render with this title (preview).")
def show(ref: str, render_title: str | None) -> None:
    """Print a prompt file, or (--render) the messages it makes for a sample abstract."""
    from pathlib import Path

    from tagger.config.prompts import load_prompt

    spec = load_prompt(ref)
    if render_title is None:
        click.echo(f"# {spec.ref} ({spec.path}, hash {spec.content_hash})")
        click.echo(Path(spec.path).read_text(encoding="utf-8"))
        return
    from tagger.config.prompts import render
    from tagger.config.taxonomy import load_taxonomy
    from tagger.records import Paper

    paper = Paper(id="preview", title=render_title, abstract="<abstract text>", source="-")
    for message in render(spec, paper, load_taxonomy(), 3):
        click.echo(f"--- {message['role']} ---\n{message['content']}\n")
