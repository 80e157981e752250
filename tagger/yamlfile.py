"""Read a YAML file a user wrote: no aliases, no duplicate keys, bounded nesting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tagger.errors import ConfigError

MAX_DEPTH = 64  # far deeper than any taxonomy, prompt or config needs; stops nesting bombs early


def load_yaml(path: str | Path, *, what: str = "file") -> Any:
    """Parse `path` as YAML and return plain data (dict/list/str/...).

    Refused with a ConfigError naming the file and line: unreadable files, syntax errors,
    anchors/aliases (a few bytes can expand to gigabytes), a key written twice in one mapping
    (both lines named) and nesting deeper than MAX_DEPTH.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} ({exc}).", path=str(file)) from None
    return parse_yaml(text, str(file))


def parse_yaml(text: str, where: str) -> Any:
    """Like load_yaml, for text already read; `where` names it in errors."""
    import yaml

    node = compose_yaml(text, where)
    return None if node is None else yaml.SafeLoader(text).construct_document(node)


def compose_yaml(text: str, where: str) -> Any:
    """The checked node tree (for line numbers); None for an empty document."""
    import yaml

    _check_depth(text, where)
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid YAML: {problem}.",
            path=where,
            line=mark.line + 1 if mark is not None else None,
            hint="Fix the syntax there.",
        ) from None
    except RecursionError:  # block nesting ("- - - ...", ever deeper indents): the parser recurses
        raise _too_deep(where, None) from None
    if node is not None:
        _check_node(node, where)
    return node


def _compose(text: str) -> Any:
    """libyaml's parser when PyYAML has it (a tenth of the pure-Python one's time: ~10 ms of
    every run's start goes to the taxonomy); a document it refuses is parsed again by the
    pure-Python parser, whose errors name the problem and its line better."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _check_depth(text: str, where: str) -> None:
    """Refuse flow nesting ('[[[[...') before the recursive parser sees it."""
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            if char in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(where, number)
            elif char in "]}":
                depth = max(0, depth - 1)


def _check_node(root: Any, where: str) -> None:
    import yaml

    stack: list[tuple[Any, int]] = [(root, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise _alias_error(node, where)
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise _too_deep(where, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            _check_keys(node, where)
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
        elif getattr(node, "anchor", None):
            raise _alias_error(node, where)


def _check_keys(node: Any, where: str) -> None:
    import yaml

    if getattr(node, "anchor", None):
        raise _alias_error(node, where)
    first_line: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.value == "<<":
            raise _alias_error(key, where)
        line = key.start_mark.line + 1
        if key.value in first_line:
            raise ConfigError(
                f"key '{key.value}' is written twice (lines {first_line[key.value]} and {line}).",
                path=where,
                line=line,
                hint="Keep one of them.",
            )
        first_line[key.value] = line


def _too_deep(where: str, line: int | None) -> ConfigError:
    return ConfigError(
        f"YAML nested more than {MAX_DEPTH} levels deep.",
        path=where,
        line=line,
        hint="Flatten the structure.",
    )


def _alias_error(node: Any, where: str) -> ConfigError:
    return ConfigError(
        "YAML anchors, aliases and merge keys ('&', '*', '<<') are not allowed here.",
        path=where,
        line=node.start_mark.line + 1,
        hint="Write the values out in full.",
    )
