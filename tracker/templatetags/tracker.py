from django import template

register = template.Library()


@register.filter
def dollars(amount: int | None) -> str:
    """Whole dollars in the way staff read them: $95.34B, $400M, $1,900."""
    if amount is None:
        return "—"
    for divisor, suffix in ((1_000_000_000, "B"), (1_000_000, "M")):
        if abs(amount) >= divisor:
            return f"${amount / divisor:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"${amount:,}"
