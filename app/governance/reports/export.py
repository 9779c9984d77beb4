"""Content negotiation for the reports: JSON by default, CSV for ``Accept: text/csv``.

The most specific media range in ``Accept`` that matches an offered type decides its quality
(RFC 9110 §12.5.1): ``text/csv`` over ``text/*`` over ``*/*``. The offered type with the higher quality
wins, JSON on a tie; when neither is acceptable the answer is a 406 problem. No ``Accept`` header means
JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import StrEnum
from typing import IO, Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.responses import StreamingResponse

from app.core.errors import AppError

JSON = "application/json"
CSV = "text/csv"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
STREAM_BLOCK = 1024 * 1024


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


def _quality(accept: str, media_type: str) -> float:
    kind = media_type.split("/", 1)[0]
    best: tuple[int, float] = (-1, 0.0)  # (specificity, quality)
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media_range = fields[0].lower()
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media_range == media_type:
            specificity = 2
        elif media_range == f"{kind}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best[0]:
            best = (specificity, q)
    return best[1]


def negotiate(request: Request) -> Format:
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return Format.JSON
    json_q, csv_q = _quality(accept, JSON), _quality(accept, CSV)
    if csv_q > json_q:
        return Format.CSV
    if json_q > 0:
        return Format.JSON
    raise AppError(
        f"This report is available as {JSON} or {CSV}; the Accept header allows neither.",
        code="not_acceptable",
    )


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_response(text: str, filename: str) -> Response:
    return Response(
        content=text,
        media_type=CSV_CONTENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Vary": "Accept"},
    )


def file_response(file: IO[bytes], size: int, filename: str) -> StreamingResponse:
    """Stream a CSV document from its (spooled) file, closing it when sent or abandoned.

    The request's transaction has committed by the time the body is sent (``app.core.routing``), so
    the document is made in full first and only the sending is streamed.
    """

    def blocks() -> Iterator[bytes]:
        try:
            while block := file.read(STREAM_BLOCK):
                yield block
        finally:
            file.close()

    return StreamingResponse(
        blocks(),
        media_type=CSV_CONTENT_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(size),
            "Vary": "Accept",
        },
    )


def vary_on_accept(response: Response) -> None:
    response.headers["Vary"] = "Accept"


R = TypeVar("R")


class Reply:
    """A report's answer in the format the caller accepts. A handler takes it as ``Negotiated``, asks
    ``format()`` before running the report (a 406 costs no report), then gives the report to ``json`` or
    ``table``. Negotiated in the handler, not when the dependency is resolved: FastAPI resolves
    dependencies before it validates the route's own parameters, and a request with a bad parameter
    and an unacceptable ``Accept`` is answered 422, as it always was."""

    __slots__ = ("_format", "request", "response")

    def __init__(self, request: Request, response: Response) -> None:
        self.request = request
        self.response = response
        self._format: Format | None = None

    def format(self) -> Format:
        """JSON or CSV, as ``Accept`` says; a 406 problem when it allows neither."""
        if self._format is None:
            self._format = negotiate(self.request)
        return self._format

    def json(self, body: R) -> R:
        vary_on_accept(self.response)
        return body

    def table(
        self,
        report: R,
        header: Sequence[str],
        rows: Callable[[R], Iterable[Sequence[Any]]],
        filename: str,
    ) -> R | Response:
        """``report`` as JSON, or as a CSV document of ``header`` and ``rows(report)``."""
        if self.format() is Format.CSV:
            return csv_response(to_csv(header, rows(report)), filename)
        return self.json(report)


async def reply(request: Request, response: Response) -> Reply:
    return Reply(request, response)


Negotiated = Annotated[Reply, Depends(reply)]


def both_media_types(csv_description: str, csv_example: str) -> dict[int | str, Any]:
    """The 200 response's CSV alternative, for ``responses=`` beside the JSON ``response_model``."""
    return {
        200: {
            "description": "The report: JSON by default, CSV with `Accept: text/csv`.",
            "content": {
                CSV: {"schema": {"type": "string", "description": csv_description}, "example": csv_example}
            },
            "headers": {
                "Vary": {
                    "description": "Accept: the representation depends on it.",
                    "schema": {"type": "string", "const": "Accept"},
                }
            },
        }
    }
