"""The run step: `tagger run DATE/papers.jsonl -o DATE/tagged.jsonl`, resumed if cut short."""

from __future__ import annotations

from pathlib import Path

from tagger.daily.config import DailyConfig
from tagger.errors import TaggerError


def tag_papers(config: DailyConfig, papers: Path, tagged: Path) -> None:
    from tagger.cli.run import run

    if not papers.exists() or papers.stat().st_size == 0:
        # An empty day: `tagger run` refuses an empty input; there is simply nothing to tag.
        tagged.write_text("", encoding="utf-8")
        return
    args = [str(papers), "-o", str(tagged), "--model", config.model]
    if config.taxonomy is not None:
        args += ["--taxonomy", str(config.taxonomy.resolve())]
    if config.api_base:
        args += ["--api-base", config.api_base]
    args.append("--resume" if tagged.exists() else "--overwrite")
    try:
        code = run.main(args=args, prog_name="tagger run", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code
    if code not in (None, 0):
        raise TaggerError(f"`tagger run` exited with code {code}.", path=str(tagged))
