"""Rules for what staff enter, shared by several models' fields (and so by every form and the
admin, which validate through the models).

Dates staff record (a position's "as of", the day a demand was raised) and the days a page can
be shown as of: on or after the first Congress met, and not in the future. A position dated
9999 would stay a member's latest forever; one dated year 1 breaks date arithmetic. The floor
is also a database check; "not in the future" moves every day, so only the models and the
forms can check it.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

# The first Congress met on March 4, 1789.
EARLIEST_DATE = date(1789, 3, 4)
# Quotes and paraphrases: long enough for a paragraph of a floor speech, short enough that no
# one statement can bloat the dashboard and the timeline for everyone.
STATEMENT_MAX_LENGTH = 2000


def validate_recorded_date(day: date) -> None:
    if day < EARLIEST_DATE:
        raise ValidationError(
            "Enter a date on or after March 4, 1789.", code="before_first_congress"
        )
    if day > timezone.localdate():
        raise ValidationError("The date cannot be in the future.", code="future")


# Sources are web pages: no ftp:, and never javascript: or data: (they are shown as links).
validate_web_url = URLValidator(schemes=["http", "https"])
