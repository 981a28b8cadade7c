from datetime import date, datetime
from urllib.parse import urlsplit

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from tracker.money import format_change, format_dollars

register = template.Library()

NO_TIME = {(0, 0), (12, 0)}


@register.filter
def dollars(amount: int | None) -> str:
    return format_dollars(amount)


@register.filter
def signed_dollars(amount: int | None) -> str:
    return format_change(amount)


@register.filter
def domain(url: str) -> str:
    """The host a source link points at, as a short, honest label."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


@register.filter
def get_item(mapping: dict | None, key: object) -> object:
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def nav_link(context: template.Context, name: str, label: str) -> str:
    """A main-menu link, marked aria-current="page" on the page it leads to or below it."""
    url = reverse(name)
    path = context["request"].path if "request" in context else ""
    current = path == url or (url != "/" and path.startswith(url))
    return format_html(
        '<a href="{}"{}>{}</a>', url, mark_safe(' aria-current="page"') if current else "", label
    )


@register.filter
def day(value: date | datetime | None) -> str:
    """A date as staff read it: "Feb 7", with the year when it is not this year's."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    shown = f"{value:%b} {value.day}"
    return shown if value.year == timezone.localdate().year else f"{shown}, {value.year}"


@register.filter
def moment(value: datetime | None) -> str:
    """A time as staff read it: "Feb 7, 14:05", the year added when it is not this year's."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    # The record gives many events a day but no time; loaders stamp those at midnight or noon
    # sharp, and a time nobody reported is not shown.
    if local.second == 0 and local.microsecond == 0 and (local.hour, local.minute) in NO_TIME:
        return day(local)
    return f"{day(local)}, {local:%H:%M}"


@register.filter
def amount_input(amount: int | None) -> str:
    """An amount as an input shows it for editing: every digit, grouped ("61,400,000,000").
    Always exact, so saving the form unchanged never rounds a figure; parse_dollars reads it
    back, as it reads "$61.4B". Empty for none (a version without a line gives "")."""
    if not isinstance(amount, int):
        return ""
    return f"{amount:,}"
