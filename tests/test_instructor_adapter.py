"""One test per instructor behaviour tagger relies on (see tagger/models/instructor_adapter.py).

They run instructor itself around a fake completion function (no server, no litellm), so an
instructor release that changes one of these fails here, by name, before the gateway tests do.
pyproject.toml pins instructor to the minor versions these pass on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationInfo, field_validator

from tagger.models import instructor_adapter as adapter

MESSAGES = [{"role": "system", "content": "Say a word."}, {"role": "user", "content": "Go."}]


class Word(BaseModel):
    """A word the request's validation context allows."""

    word: str

    @field_validator("word")
    @classmethod
    def allowed(cls, value: str, info: ValidationInfo) -> str:
        wanted = (info.context or {}).get("wanted")
        if value != wanted:
            raise ValueError(f"the word must be {wanted!r}")
        return value


def completion(answer: dict[str, Any], body: dict[str, Any], finish: str = "stop") -> Any:
    """A chat completion carrying `answer` as the mode of `body` expects it."""
    message: dict[str, Any] = {"role": "assistant", "content": json.dumps(answer)}
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        function = {"name": name, "arguments": json.dumps(answer)}
        call = {"id": "c1", "type": "function", "function": function}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return ChatCompletion.model_validate(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }
    )


class Fake:
    """`create`: an async completion function (instructor wants a coroutine function, as the
    gateway's bound `_transport_call` is) answering `answers` in turn, the last one again after."""

    def __init__(self, *answers: dict[str, Any], finish: str = "stop") -> None:
        self.answers = list(answers)
        self.finish = finish
        self.bodies: list[dict[str, Any]] = []
        self.returned: list[Any] = []
        self.calls_seen: list[adapter.Call | None] = []

    async def create(self, **body: Any) -> Any:
        self.bodies.append(body)
        self.calls_seen.append(adapter.current_call())
        answer = self.answers[min(len(self.bodies), len(self.answers)) - 1]
        self.returned.append(completion(answer, body, self.finish))
        return self.returned[-1]


async def ask(
    fake: Fake, model: type[BaseModel] = Word, mode: str = "json", retries: int = 2
) -> tuple[Any, Any, adapter.Call]:
    client = adapter.make_client(fake.create, mode)
    with adapter.request_scope({"wanted": "yes"}) as call:
        output, raw = await adapter.create(
            client, model="openai/m", messages=MESSAGES, response_model=model, max_retries=retries
        )
    return output, raw, call


# 1. from_litellm + create_with_completion: (output, the function's raw answer)
async def test_create_with_completion_returns_the_output_and_the_raw_answer() -> None:
    fake = Fake({"word": "yes"})
    output, raw, _ = await ask(fake)
    assert isinstance(output, Word) and output.word == "yes"
    assert raw is fake.returned[0] and len(fake.bodies) == 1


# 2. every attempt is one call of the function, in the caller's context
async def test_every_attempt_is_one_call_made_in_the_callers_context() -> None:
    fake = Fake({"word": "no"}, {"word": "yes"})
    output, _, call = await ask(fake)
    assert output.word == "yes" and len(fake.bodies) == 2  # the first answer, then one re-ask
    assert fake.calls_seen == [call, call]  # request_scope's contextvar is seen inside
    assert adapter.current_call() is None  # and reset once the request is done


# 3. a re-ask carries the validation error; after the last, InstructorRetryException
async def test_after_the_last_re_ask_the_error_has_its_cause_and_the_last_completion() -> None:
    from instructor.core.exceptions import InstructorRetryException
    from pydantic import ValidationError

    fake = Fake({"word": "no"})
    with pytest.raises(InstructorRetryException) as info:
        await ask(fake, retries=2)
    assert len(fake.bodies) == 3  # the first try and two re-asks
    assert "the word must be 'yes'" in json.dumps(fake.bodies[1]["messages"])
    assert isinstance(info.value.__cause__, ValidationError)
    assert adapter.last_completion(info.value) is fake.returned[-1]


# 3b. an answer cut at max_tokens is IncompleteOutputException (retry.failure says so)
async def test_an_answer_cut_at_max_tokens_is_incomplete_output() -> None:
    from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

    with pytest.raises((IncompleteOutputException, InstructorRetryException)) as info:
        await ask(Fake({"word": "yes"}, finish="length"), retries=0)
    error = info.value
    cause = error.__cause__ if isinstance(error, InstructorRetryException) else error
    assert isinstance(cause, IncompleteOutputException)


# 4a. validation goes through the response model's classmethods: the scope's context arrives
@pytest.mark.parametrize("mode", adapter.MODES)
async def test_answers_are_validated_with_the_request_context_in_every_mode(mode: str) -> None:
    fake = Fake({"word": "yes"})
    output, _, _ = await ask(fake, mode=mode, retries=0)  # no context= passed to instructor
    assert output.word == "yes"
    with pytest.raises(ValueError, match="must be None"):
        adapter.prepared(Word).model_validate({"word": "yes"})  # outside a scope: no context


# 4b. the schema sent is the response model's model_json_schema (built once by `prepared`)
@pytest.mark.parametrize("mode", ["json", "tools"])
async def test_the_schema_sent_is_the_response_models_json_schema(mode: str) -> None:
    class Marked(Word):
        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            schema = super().model_json_schema(*args, **kwargs)
            schema["properties"]["word"]["description"] = "MARKER-7f3a"
            return schema

    prepared = adapter.prepared(Marked)
    assert issubclass(prepared, Marked) and prepared is adapter.prepared(Marked)  # once
    fake = Fake({"word": "yes"})
    await ask(fake, model=Marked, mode=mode, retries=0)
    assert "MARKER-7f3a" in json.dumps(fake.bodies[0])


def test_a_scope_is_reset_even_when_the_request_fails() -> None:
    with pytest.raises(RuntimeError), adapter.request_scope({"wanted": "x"}):
        assert adapter.current_call() is not None
        raise RuntimeError("failed")
    assert adapter.current_call() is None
    call = adapter.Call({}, completions=3, transport_retries=2)
    assert call.retries == 4  # two transport retries and two re-asks
