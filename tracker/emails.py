"""One function per email kind. Each renders templates/emails/<kind>-subject.txt, -body.txt and
-body.html through `_make_message`, and returns the message unsent: workers send it."""

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from tracker.digests import Digest

__all__ = ["EmailMultiAlternatives", "digest"]


def _make_message(
    kind: str, *, to: list[str], context: dict[str, Any], headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    subject = render_to_string(f"emails/{kind}-subject.txt", context)
    # A subject is one line; a template's trailing newline or a long name must not break it.
    subject = " ".join(subject.split())
    text = render_to_string(f"emails/{kind}-body.txt", context)
    html = render_to_string(f"emails/{kind}-body.html", context)
    # Our own Message-ID, so the delivery record can name the message it sent.
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Message-ID": make_msgid(domain=domain), **(headers or {})},
    )
    message.attach_alternative(html, "text/html")
    return message


def digest(
    digest: "Digest", *, unsubscribe_url: str, preferences_url: str
) -> EmailMultiAlternatives:
    """A user's digest of the changes on what they watch, with one-click unsubscribe (RFC 8058)."""
    return _make_message(
        "digest",
        to=[digest.user.email],
        context={
            "digest": digest,
            "unsubscribe_url": unsubscribe_url,
            "preferences_url": preferences_url,
            "site_url": settings.SITE_URL,
        },
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # Tells autoresponders not to answer a digest (RFC 3834).
            "Auto-Submitted": "auto-generated",
        },
    )
