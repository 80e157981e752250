"""Opening input files: directories, unusable files, and UTF-8 lines read one at a time."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

from tagger.errors import InputError
from tagger.ingest.own_files import written_by_tagger
from tagger.jsonio import MAX_LINE_BYTES

_SNIFF_BYTES = 8192
_UTF8_HINT = "Re-save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)."


def expand_paths(
    paths: Sequence[str], on_skip: Callable[[str], None] = lambda _: None
) -> list[str]:
    """Files to read, in order: a directory stands for its visible files, sorted by name, less
    the ones tagger wrote (each skip is told to ``on_skip``); a file named directly is read."""
    if not paths:
        raise InputError("No input given.", hint="Pass one or more files or directories.")
    files: list[str] = []
    for path in paths:
        files.extend(_expand_one(path, on_skip))
    return files


def _expand_one(path: str, on_skip: Callable[[str], None]) -> list[str]:
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not n.startswith("."))
        files = [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
        if not files:
            raise InputError("is a directory with no files in it.", path=path)
        inputs = [f for f in files if not _skipped_as_own(f, on_skip)]
        if not inputs:
            raise InputError(
                "holds only files tagger wrote (outputs, manifests, reports).",
                path=path,
                hint="Pass the folder or files with the papers.",
            )
        return inputs
    if not os.path.exists(path):
        raise InputError("no such file or directory.", path=path, hint="Check the path.")
    return [path]


def _skipped_as_own(path: str, on_skip: Callable[[str], None]) -> bool:
    kind = written_by_tagger(path)
    if kind is not None:
        on_skip(f"{path}: skipped, tagger wrote it ({kind}); name it directly to read it.")
    return kind is not None


def check_readable(path: str) -> None:
    """Raise a one-line InputError for files no format can read: empty, binary, UTF-16."""
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror}).", path=path) from None
    if not head:
        raise InputError("is empty.", path=path, hint="Pass a file with papers in it.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("is UTF-16 encoded, not UTF-8.", path=path, hint=_UTF8_HINT)
    if head.startswith(b"\x1f\x8b"):
        raise InputError("is gzip-compressed.", path=path, hint="Decompress it first (gunzip).")
    if b"\x00" in head:
        raise InputError(
            "looks like a binary file, not text.",
            path=path,
            hint="Pass a page dump (.txt), JSON lines, CSV or the arXiv metadata snapshot.",
        )


def read_lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number, text without line ending) one line at a time; BOM and CRLF are fine.
    A line over MAX_LINE_BYTES is an error, found before more than that is held in memory."""
    with open(path, "rb") as f:
        for number, raw in enumerate(iter(lambda: f.readline(MAX_LINE_BYTES + 1), b""), start=1):
            if len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
                raise InputError(
                    f"line is longer than {MAX_LINE_BYTES // 2**20} MB (the limit for one record).",
                    path=path,
                    line=number,
                    hint="Split the record or remove the oversized field.",
                )
            text = _decode(raw, path, number)
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield number, text.rstrip("\r\n")


def _decode(raw: bytes, path: str, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        raise InputError(
            f"is not valid UTF-8 (byte 0x{bad} at column {exc.start + 1}).",
            path=path,
            line=number,
            hint=_UTF8_HINT,
        ) from None


def first_content_line(path: str) -> tuple[int, str] | None:
    """The first non-blank line, or None when the file holds only whitespace."""
    for number, text in read_lines(path):
        if text.strip():
            return number, text
    return None
