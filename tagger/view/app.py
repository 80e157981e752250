"""The viewer's web app: GET-only routes over one store, opened read-only per request."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from tagger.view import data, pages
from tagger.view.eval_page import STATIC_DIR, eval_page

STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
# Pages are HTML built from untrusted titles and abstracts: no inline script runs, nothing loads
# from elsewhere, and the page cannot be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def make_app(store: Path) -> Any:
    """A starlette app serving the store at `store` (migrated once here, then read-only)."""
    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    from tagger.store import connect

    connect(store, create=False).close()  # a clear error now for a missing or newer store

    @contextmanager
    def reader() -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    def route(path: str, render: Callable[[Any, sqlite3.Connection], Any]) -> Route:
        async def endpoint(request: Any) -> Any:
            with reader() as conn:
                try:
                    return render(request, conn)
                except OverflowError:  # an id past SQLite's 64-bit integers: no such row
                    return _not_found("No such page in the store.")

        return Route(path, endpoint, methods=["GET"])

    async def home(request: Any) -> Any:
        return RedirectResponse("/papers", status_code=302)

    routes = [
        Route("/", home, methods=["GET"]),
        route("/papers", _papers),
        route("/papers/{paper_no:int}", _paper),
        route("/runs", _runs),
        route("/runs/{run_id:int}", _run),
        route("/evals", _evals),
        route("/evals/{run_id:int}", _eval),
        Route("/static/{name}", _static, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def _html(body: str, status: int = 200) -> Any:
    from starlette.responses import HTMLResponse

    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _not_found(what: str) -> Any:
    from tagger.view.html import esc, page

    return _html(page("Not found", f'<p class="empty">{esc(what)}</p>'), 404)


def _papers(request: Any, conn: sqlite3.Connection) -> Any:
    params = request.query_params
    q = data.PaperQuery(
        tags=[t for t in params.getlist("tag") if t],
        since=_date(params.get("since", "")),
        until=_date(params.get("until", "")),
        model=params.get("model", ""),
        search=params.get("q", "")[:200],
        sort="old" if params.get("sort") == "old" else "new",
        page=_int(params.get("page"), 1),
    )
    return _html(pages.papers(data.papers_page(conn, q), q, _labels(conn)))


def _paper(request: Any, conn: sqlite3.Connection) -> Any:
    detail = data.paper_detail(conn, int(request.path_params["paper_no"]))
    if detail is None:
        return _not_found("No such paper in the store.")
    return _html(pages.paper(detail, _labels(conn)))


def _runs(request: Any, conn: sqlite3.Connection) -> Any:
    current = _int(request.query_params.get("page"), 1)
    rows, total = data.runs(conn, current)
    return _html(pages.runs(rows, total, current))


def _run(request: Any, conn: sqlite3.Connection) -> Any:
    detail = data.run_detail(conn, int(request.path_params["run_id"]))
    if detail is None:
        return _not_found("No such run in the store.")
    return _html(pages.run(detail))


def _evals(request: Any, conn: sqlite3.Connection) -> Any:
    return _html(pages.evals(data.evals(conn)))


def _eval(request: Any, conn: sqlite3.Connection) -> Any:
    from tagger.evaluate.models import EvalReport

    run_id = int(request.path_params["run_id"])
    raw = data.eval_report_json(conn, run_id)
    if raw is None:
        return _not_found("No eval report is stored for that run.")
    report = EvalReport.model_validate_json(raw)
    return _html(eval_page(report, title=f"Eval #{run_id}"))


async def _static(request: Any) -> Any:
    from starlette.responses import Response

    name = str(request.path_params["name"])
    path = STATIC_DIR / name
    if Path(name).name != name or path.suffix not in STATIC_TYPES or not path.is_file():
        return _not_found("No such file.")
    return Response(
        path.read_bytes(), media_type=STATIC_TYPES[path.suffix], headers=SECURITY_HEADERS
    )


MAX_PAGE = 10**9  # ?page= beyond it is the last page anyway; SQLite's OFFSET is 64-bit


def _int(text: str | None, default: int) -> int:
    try:
        return min(max(1, int(text or default)), MAX_PAGE)
    except ValueError:
        return default


def _date(text: str) -> str:
    """YYYY-MM-DD or nothing: a filter never turns into an SQL or page error."""
    import re

    return text if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text or "") else ""


@lru_cache(maxsize=1)
def _labels(conn: sqlite3.Connection) -> dict[str, str]:
    """Tag id -> label from the taxonomies the stored runs used (the newest run's wins), where
    the file is still there unchanged; the packaged taxonomy's labels for the rest."""
    from tagger.config.taxonomy import load_taxonomy
    from tagger.errors import TaggerError

    labels = {tag.id: tag.label for tag in load_taxonomy().tags}
    rows = conn.execute(
        "SELECT json_extract(manifest, '$.taxonomy'), taxonomy_hash, MAX(id) FROM runs"
        " WHERE manifest IS NOT NULL AND taxonomy_hash IS NOT NULL"
        " GROUP BY 1, 2 ORDER BY 3"
    ).fetchall()
    for path, content_hash, _ in rows:
        if not path or not Path(str(path)).is_file():
            continue  # the packaged one by name, or a file since moved
        try:
            taxonomy = load_taxonomy(str(path))
        except TaggerError:
            continue
        if taxonomy.content_hash == content_hash:
            labels.update({tag.id: tag.label for tag in taxonomy.tags})
    return labels
