"""The daily job: each step writes its files under OUTPUT_DIR/DATE/ and is marked done in
steps.json, so a failed call leaves the earlier steps' files and the next call continues."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagger.atomic import write_atomic
from tagger.daily.config import DailyConfig
from tagger.errors import ConfigError, TaggerError

if TYPE_CHECKING:
    from tagger.daily.tagging import RunTagger

Echo = Callable[[str], None]
STEPS = ("fetch", "run", "digest")


class DailyStepError(TaggerError):
    """One step of `tagger daily` failed; the message names it."""


class DailyJob:
    def __init__(
        self,
        config: DailyConfig,
        day: dt.date,
        echo: Echo,
        dry_run: bool = False,
        *,
        run_tagger: RunTagger,
    ):
        self.config, self.day, self.echo, self.dry_run = config, day, echo, dry_run
        self.run_tagger = run_tagger  # `tagger run ARGS` -> exit code
        self.dir = config.output_dir / day.isoformat()
        self.papers, self.tagged = self.dir / "papers.jsonl", self.dir / "tagged.jsonl"
        self.marks_path = self.dir / "steps.json"
        self.smtp = _smtp(config)  # a missing SMTP password fails before any work

    def run(self) -> int:
        """Papers sent (0 when there was nothing new or this date was already sent)."""
        marks = self._marks()
        if "digest" in marks:
            sent = marks["digest"].get("sent", 0)
            self.echo(f"{self.day} was already done ({sent} papers sent); nothing new to send.")
            return 0
        for name, action in (("fetch", self._fetch), ("run", self._run)):
            if name not in marks:
                self._step(name, action)
        return int(self._step("digest", self._digest) or 0)

    def _step(self, name: str, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except TaggerError as exc:
            raise DailyStepError(
                f"daily {self.day}: step '{name}' failed: {exc}",
                hint=f"Files of the steps before it are in {self.dir}; run the same command "
                "again to continue from this step.",
            ) from None
        if not self.dry_run or name != "digest":
            self._mark(name, result if isinstance(result, dict) else {})
        return result.get("sent") if isinstance(result, dict) else result

    def _fetch(self) -> dict[str, int]:
        from tagger.daily.fetching import fetch_sources

        written = fetch_sources(self.config, self.day, self.papers, self.dir.parent)
        self.echo(f"fetch: {written} new papers -> {self.papers}")
        return {"papers": written}

    def _run(self) -> dict[str, int]:
        from tagger.daily.tagging import tag_papers

        tag_papers(self.config, self.papers, self.tagged, self.run_tagger)
        return {}

    def _digest(self) -> dict[str, int]:
        from tagger.daily.sending import DigestStep

        step = DigestStep(self.config, self.day, self.dir, self.echo, self.dry_run)
        return {"sent": step.deliver(self.tagged, self.smtp)}

    def _marks(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.marks_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError):
            return {}  # unreadable marks: redo the steps (each is safe to redo)
        return data if isinstance(data, dict) else {}

    def _mark(self, name: str, info: dict[str, Any]) -> None:
        marks = self._marks()
        marks[name] = {"done": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **info}
        write_atomic(self.marks_path, json.dumps(marks, indent=1) + "\n")


def _smtp(config: DailyConfig) -> Any:
    if config.email is None:
        if "eml" in config.formats:
            raise ConfigError("daily config: format 'eml' needs an 'email:' section (to: ...).")
        return None
    from tagger.digest.render_eml import check_addresses
    from tagger.digest.smtp import DAILY_CONFIG, smtp_settings

    check_addresses([config.email.sender], "email.from")
    check_addresses(config.email.to, "email.to")
    email = config.email
    return smtp_settings(email.smtp, email.security, email.user, names=DAILY_CONFIG)


def sent_state_path(output_dir: Path) -> Path:
    return output_dir / "sent.json"
