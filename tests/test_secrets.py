"""An API key given by env var or --api-key is sent to the provider and written nowhere else.

The fake provider echoes the key back in its error messages (some real ones echo headers), and
every file under TAGGER_HOME and the output folder, plus stdout and stderr, is searched for it.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from fake_openai import FakeOpenAI
from tagger.cli.main import main
from tagger.models.retry import redact


def planted_key() -> str:
    return f"sk-test-PLANTED-{secrets.token_hex(12)}"


def echoing_failures(key: str) -> list[dict[str, object]]:
    echo = f"Incorrect API key provided: {key}. Headers: Authorization: Bearer {key}"
    body = {"error": {"message": echo, "type": "invalid_request_error"}}
    retry = {"status": 503, "headers": {"Retry-After": "0"}, "body": body}
    return [*[retry] * 4, {"status": 401, "body": body}]  # the 401 then stops the run


def files_containing(folder: Path, needle: str) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and needle.encode() in path.read_bytes()
    ]


@pytest.mark.parametrize("how", ["TAGGER_API_KEY", "--api-key", "OPENAI_API_KEY"])
def test_api_key_is_used_but_never_stored_or_printed(
    how: str,
    tmp_path: Path,
    tagger_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    key = planted_key()
    out_dir = tmp_path / "results"
    source = tmp_path / "papers.jsonl"
    source.write_text(
        "".join(
            json.dumps({"title": f"Paper {n} on topic {n * 31}", "abstract": f"Study {n}."}) + "\n"
            for n in range(4)
        )
    )
    args = ["run", str(source), "-o", str(out_dir / "out.jsonl"), "--model", "openai/fake"]
    if how == "--api-key":
        args += ["--api-key", key]
    else:
        monkeypatch.setenv(how, key)
    with FakeOpenAI() as server:
        server.enqueue(*echoing_failures(key))
        with pytest.raises(SystemExit) as stopped:
            main([*args, "--api-base", server.base_url, "--concurrency", "1", "--json"])
        assert stopped.value.code == 2  # the 401 stopped the run: a key problem to fix
        sent = {r["headers"].get("Authorization") for r in server.requests}
    if how != "OPENAI_API_KEY":  # a self-hosted --api-base gets "no-key" unless a key is given
        assert sent == {f"Bearer {key}"}
    rows = [json.loads(line) for line in (out_dir / "out.jsonl").read_text().splitlines()]
    assert sum(r["status"] == "failed" for r in rows) == 2  # the echoing errors were recorded
    assert all("[redacted]" in r["error"] for r in rows if r["status"] == "failed")
    captured = capfd.readouterr()
    for needle in (key, key[-24:]):
        assert needle not in captured.out and needle not in captured.err
        assert files_containing(tagger_home, needle) == []
        assert files_containing(out_dir, needle) == []
    assert (out_dir / "out.run.json").exists() and any(tagger_home.rglob("cache.db"))


def test_redact_removes_keys_tokens_and_env_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "ant-secret-value-123")
    text = (
        "key sk-abcDEF1234567890 given; Authorization: Bearer tok.en-xyz123; "
        "api_key='plain-secret-999'; env ant-secret-value-123; mine my-own-key-77"
    )
    cleaned = redact(text, ["my-own-key-77"])
    for secret in ("sk-abcDEF", "tok.en-xyz123", "plain-secret-999", "ant-secret", "my-own-key"):
        assert secret not in cleaned
    assert cleaned.startswith("key [redacted] given; Authorization: Bearer [redacted];")
