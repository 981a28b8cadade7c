from urllib.parse import urlsplit

from django import template

from tracker.money import format_change, format_dollars

register = template.Library()


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
