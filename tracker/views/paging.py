"""One page of a list, and the list's own query string for the pagination links."""

from collections.abc import Sequence

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def page_of(items: QuerySet | Sequence, per_page: int, number: str | None) -> Page:
    """The page `number` names: the last one if past the end, the first if not a number."""
    return Paginator(items, per_page).get_page(number)


def paginate(request: HttpRequest, items: QuerySet, per_page: int) -> tuple[Page, str]:
    """The page `?page=` asks for, and the request's other parameters, for links that keep
    the filters and change the page."""
    page = page_of(items, per_page, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
