"""Which taxonomy labels and groups the digest: the one each run recorded, hash-checked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from tagger.config.taxonomy import Taxonomy, load_taxonomy
from tagger.errors import ConfigError

_HINT = "Pass --taxonomy FILE to choose the taxonomy yourself."


def run_taxonomy(runs: Sequence[str | Path]) -> Taxonomy:
    """The taxonomy the runs' manifests (OUT.run.json) name; the packaged one when no run file
    has a manifest. A taxonomy whose content changed since the run is an error, not a guess."""
    for run in runs:
        manifest = _manifest(Path(run))
        if manifest is not None:
            return _recorded(Path(run), manifest)
    return load_taxonomy(None)


def _manifest(run: Path) -> dict[str, object] | None:
    from tagger.run.output import manifest_path

    path = manifest_path(run)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None  # no manifest (or a broken one): nothing recorded to follow
    return data if isinstance(data, dict) else None


def _recorded(run: Path, manifest: dict[str, object]) -> Taxonomy:
    name, recorded = str(manifest.get("taxonomy") or ""), str(manifest.get("taxonomy_hash") or "")
    taxonomy = _load_named(run, name)
    if recorded and taxonomy.content_hash != recorded:
        raise ConfigError(
            f"the taxonomy the run used ({name}) has changed since (hash {recorded}, now "
            f"{taxonomy.content_hash}).",
            path=str(run),
            hint=_HINT,
        )
    return taxonomy


def _load_named(run: Path, name: str) -> Taxonomy:
    packaged = load_taxonomy(None)
    if not name or (name == packaged.name and not Path(name).is_file()):
        return packaged
    # A relative path was relative to where the run started; try there, then beside the run.
    for candidate in (Path(name), run.parent / name):
        if candidate.is_file():
            return load_taxonomy(candidate)
    raise ConfigError(
        f"the taxonomy the run used ({name}) is not there any more.", path=str(run), hint=_HINT
    )
