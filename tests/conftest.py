"""Shared fixtures: an isolated TAGGER_HOME for every test, a tiny taxonomy, a fake gateway."""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tagger.config.taxonomy import Tag, Taxonomy
from tagger.errors import ModelError
from tagger.models.base import ModelRequest, ModelResult
from tagger.records import Usage

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.fixture(autouse=True)
def tagger_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The one isolated home: every test gets its own TAGGER_HOME (cache, store, state) under
    tmp_path and no model or key from the environment; ask for it by name to get the path."""
    home = tmp_path / "tagger-home"
    monkeypatch.setenv("TAGGER_HOME", str(home))
    monkeypatch.delenv("TAGGER_MODEL", raising=False)
    monkeypatch.delenv("TAGGER_API_KEY", raising=False)
    return home


@pytest.fixture
def tiny_taxonomy() -> Taxonomy:
    return Taxonomy(
        name="tiny",
        tags=(
            Tag(
                id="diffusion", label="Diffusion models", description="Diffusion generative models."
            ),
            Tag(id="llm", label="Large language models", description="Language models and text."),
            Tag(id="robotics", label="Robotics", description="Robots, manipulation, control."),
        ),
    )


class FakeGateway:
    """Answers from a queue (`enqueue`) and records every request (`history`); no network."""

    api_base: str | None = None

    def __init__(self, model: str = "fake/model") -> None:
        self.model = model
        self.queue: deque[dict[str, Any] | Exception] = deque()
        self.history: list[ModelRequest] = []
        self.default: dict[str, Any] | None = None

    def enqueue(self, *answers: dict[str, Any] | Exception) -> None:
        self.queue.extend(answers)

    def identity(self) -> dict[str, Any]:
        return {"model": self.model, "api_base": None}

    async def complete(self, request: ModelRequest) -> ModelResult:
        self.history.append(request)
        answer = self.queue.popleft() if self.queue else self.default
        if answer is None:
            raise ModelError("fake gateway has no answer queued")
        if isinstance(answer, Exception):
            raise answer
        output = request.response_model.model_validate(
            answer, context={"title": request.paper.title}
        )
        return ModelResult(output, Usage(prompt_tokens=100, completion_tokens=20, calls=1))


@pytest.fixture
def fake_gateway() -> FakeGateway:
    return FakeGateway()


@dataclass
class CliResult:
    """What a user sees from one `tagger ...` invocation."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.err_lines if line.startswith("tagger: warning: ")]


def invoke(capsys: pytest.CaptureFixture[str] | None, *args: str) -> CliResult:
    """Run the real CLI in-process as `tagger ARGS` (sys.argv too: the store records it); exit
    codes come back as `code`, never as an exception. The one CLI helper of the tests. Without
    `capsys` (a module-scoped fixture, a script) nothing is captured: `out` and `err` are empty."""
    from tagger.cli.main import main

    if capsys is not None:
        capsys.readouterr()
    saved = sys.argv
    sys.argv = ["tagger", *args]
    try:
        returned = main(list(args))
        code = returned if isinstance(returned, int) else 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = saved
    if capsys is None:
        return CliResult(code, "", "")
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)
