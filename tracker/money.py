"""Dollar amounts as staff write and read them: "$61.4B", "481M", "60,840,000,000".

Amounts are stored as whole dollars in a 64-bit column; every figure typed into the app goes
through `parse_dollars`, and every figure shown goes through `format_dollars`.
"""

import re
from decimal import Decimal

# The largest amount the column holds (PostgreSQL's and SQLite's bigint).
MAX_AMOUNT = 2**63 - 1

_SCALE = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
# ASCII digits only: str.isdigit() also accepts "²" and Arabic-Indic digits, which int() then
# refuses or reads as something nobody typed. Commas must group thousands properly.
_AMOUNT = re.compile(
    r"""\$?\s*
    (?P<whole>\d{1,3}(?:,\d{3})+|\d+)
    (?:\.(?P<fraction>\d+))?
    \s*(?P<scale>[KMBT]?)""",
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)


class AmountError(ValueError):
    """The text is not an amount of whole dollars the app can store; the message says why."""


def parse_dollars(text: str) -> int | None:
    """Whole dollars from what a staffer typed; None for an empty field.

    Accepts "60840000000", "60,840,000,000", "$60.84B", "481M", "1.5 T" (K, M, B and T scale
    the figure, which must then come out in whole dollars). Refuses negative, fractional and
    out-of-range amounts, and anything but ASCII digits.
    """
    text = text.strip()
    if not text:
        return None
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise AmountError(
            'Enter whole dollars such as 60,840,000,000 or $60.84B (digits, commas, "$" and '
            "K, M, B or T only; not negative)."
        )
    digits = match["whole"].replace(",", "")
    scale = _SCALE[match["scale"].upper()]
    if match["fraction"] and scale == 1:
        raise AmountError("Enter whole dollars: no cents.")
    amount = Decimal(f"{digits}.{match['fraction'] or 0}") * scale
    if amount != amount.to_integral_value():
        raise AmountError(f"{text} is not a whole number of dollars.")
    if amount > MAX_AMOUNT:
        raise AmountError(f"{text} is more than the largest amount the tracker can store.")
    return int(amount)


def format_dollars(amount: int | None) -> str:
    """Whole dollars as staff read them: $95.34B, $400M, $1,900; a dash for none.

    The result holds only digits, "-", "$", ",", "." and B or M: safe in any markup.
    """
    if amount is None:
        return "—"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    for divisor, suffix in ((1_000_000_000, "B"), (1_000_000, "M")):
        if amount >= divisor:
            return f"{sign}${amount / divisor:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"{sign}${amount:,}"


def format_change(amount: int | None) -> str:
    """A difference between versions: +$1.2B, -$400M, or "no change"."""
    if amount is None:
        return ""
    if amount == 0:
        return "no change"
    return ("+" if amount > 0 else "") + format_dollars(amount)
