"""One page of a list, and the list's own query string for the pagination links."""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(request: HttpRequest, items: QuerySet, per_page: int) -> tuple[Page, str]:
    """The page `?page=` asks for (the last one if past the end, the first if not a number),
    and the request's other parameters, for links that keep the filters and change the page."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
