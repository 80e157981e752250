"""`tagger taxonomy show|validate [FILE]`."""

from __future__ import annotations

import json

import click


@click.group()
def taxonomy() -> None:
    """Show or validate a taxonomy (YAML: tags with id, label, description, group)."""


@taxonomy.command("show")
@click.argument("file", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def show(file: str | None, as_json: bool) -> None:
    """Print the tags of FILE (default: the packaged ML/AI taxonomy)."""
    from tagger.config.taxonomy import load_taxonomy

    tax = load_taxonomy(file)
    if as_json:
        data = {"name": tax.name, "version": tax.version, "hash": tax.content_hash}
        click.echo(json.dumps({**data, "tags": [t.model_dump() for t in tax.tags]}, indent=2))
        return
    click.echo(f"# {tax.name} v{tax.version} ({len(tax.tags)} tags, hash {tax.content_hash})")
    click.echo(f"# {tax.path}")
    for tag in tax.tags:
        group = f" [{tag.group}]" if tag.group else ""
        click.echo(f"{tag.id:28} {tag.label}{group}")
        click.echo(f"{'':28} {tag.description}")


@taxonomy.command("validate")
@click.argument("file", required=False)
def validate(file: str | None) -> None:
    """Check FILE: valid YAML, unique ids, non-empty descriptions. Exit 2 with file:line if not."""
    from tagger.config.taxonomy import load_taxonomy

    tax = load_taxonomy(file)
    click.echo(f"{tax.path}: ok ({len(tax.tags)} tags, hash {tax.content_hash})")
