"""`tagger daily`: fetch -> run -> digest -> write/send, once per date, resumable by step."""

from __future__ import annotations

from tagger.daily.config import DailyConfig, load_config
from tagger.daily.steps import DailyJob

__all__ = ["DailyConfig", "DailyJob", "load_config"]
