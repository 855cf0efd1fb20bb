"""Pagination of list endpoints: `limit` and `offset` query parameters.

The body keeps its shape (the list, or the object holding it); the page is described by
headers: `X-Total-Count` (how many items there are in all) and, when more follow, a
`Link: <...>; rel="next"` with the next page's URL. `limit` defaults to
`PAGE_SIZE_DEFAULT` and may not exceed `PAGE_SIZE_MAX` (422 naming `limit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request, Response

from api.auth.deps import settings_of
from api.errors import ApiError

T = TypeVar("T")

LIMIT_DOC = "page size (default PAGE_SIZE_DEFAULT, at most PAGE_SIZE_MAX)"
OFFSET_DOC = "items to skip"


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int
    request: Request
    response: Response

    def slice(self, items: Sequence[T]) -> list[T]:
        """This page of an in-memory list, with the headers set."""
        self.describe(len(items))
        return list(items[self.offset : self.offset + self.limit])

    def describe(self, total: int) -> None:
        """Set `X-Total-Count` and, when items follow this page, the next page's link."""
        self.response.headers["X-Total-Count"] = str(total)
        if self.offset + self.limit < total:
            url = self.request.url.include_query_params(
                limit=self.limit, offset=self.offset + self.limit
            )
            self.response.headers["Link"] = f'<{url}>; rel="next"'


async def page(
    request: Request,
    response: Response,
    limit: Annotated[int | None, Query(ge=1, description=LIMIT_DOC)] = None,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647, description=OFFSET_DOC)] = 0,
) -> Page:
    settings = settings_of(request)
    if limit is None:
        limit = min(settings.page_size_default, settings.page_size_max)
    elif limit > settings.page_size_max:
        raise ApiError(422, "page.limit_max", params={"max": settings.page_size_max}, field="limit")
    return Page(limit=limit, offset=offset, request=request, response=response)


PageDep = Annotated[Page, Depends(page)]
