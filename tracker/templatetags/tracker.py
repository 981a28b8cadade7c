from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def dollars(amount: int | None) -> str:
    """Whole dollars as staff read them: $95.34B, $400M, $1,900; a dash for none."""
    if amount is None:
        return "—"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    for divisor, suffix in ((1_000_000_000, "B"), (1_000_000, "M")):
        if amount >= divisor:
            return f"{sign}${amount / divisor:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"{sign}${amount:,}"


@register.filter
def signed_dollars(amount: int | None) -> str:
    """A difference between versions: +$1.2B, -$400M, or "no change"."""
    if amount is None:
        return ""
    if amount == 0:
        return "no change"
    return ("+" if amount > 0 else "") + dollars(amount)


@register.filter
def domain(url: str) -> str:
    """The host a source link points at, as a short, honest label."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


@register.filter
def get_item(mapping: dict | None, key: object) -> object:
    return mapping.get(key) if mapping else None
