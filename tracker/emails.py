"""One function per email kind. Each renders templates/emails/<kind>-subject.txt, -body.txt and
-body.html through `_make_message`, and returns the message unsent: workers send it."""

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

if TYPE_CHECKING:
    from tracker.digests import Digest, NegotiationGroup

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
    digest: "Digest",
    *,
    unsubscribe_url: str,
    preferences_url: str,
    rendered: dict[tuple[object, ...], str] | None = None,
) -> EmailMultiAlternatives:
    """A user's digest of the changes on what they watch, with one-click unsubscribe (RFC 8058).

    Digests rendered with the same `rendered` dict render each section and entry they share
    once: most of a digest is the same for everyone who watches the same items.
    """
    rendered = {} if rendered is None else rendered
    return _make_message(
        "digest",
        to=[digest.user.email],
        context={
            "digest": digest,
            "html_groups": _digest_sections(digest, "html", rendered),
            "text_groups": _digest_sections(digest, "txt", rendered),
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


# Each digest entry's rendering, by everything it depends on: the compiled partial, the time
# zone, the language and the entry's fields. A change is listed in many digests and in every
# batch of a run, so a worker renders it once. Emptied when it grows past ENTRIES_KEPT.
ENTRIES_KEPT = 20_000
_rendered_entries: dict[tuple[object, ...], str] = {}


def _digest_sections(
    digest: "Digest", extension: str, rendered: dict[tuple[object, ...], str]
) -> list[tuple["NegotiationGroup", str]]:
    """Each group of the digest with its sections rendered by the `section` and `entry`
    partials of emails/digest-body.<extension>: a section once per `rendered`, an entry once
    per process."""
    section_template = get_template(f"emails/digest-body.{extension}#section")
    entry_template = get_template(f"emails/digest-body.{extension}#entry")
    zone = digest.time_zone
    entry_key = (entry_template.template, zone, translation.get_language())
    if len(_rendered_entries) > ENTRIES_KEPT:
        _rendered_entries.clear()
    groups = []
    with timezone.override(zone):
        for group in digest.groups:
            sections = []
            for section in group.sections:
                # Sections are shared by the digests built together, and compared by identity.
                key = (extension, zone, section)
                if key not in rendered:
                    entries = []
                    for entry in section.entries:
                        if (*entry_key, entry) not in _rendered_entries:
                            html_or_text = entry_template.render({"entry": entry})
                            _rendered_entries[*entry_key, entry] = html_or_text
                        entries.append(_rendered_entries[*entry_key, entry])
                    rendered[key] = section_template.render(
                        {"section": section, "entries": entries}
                    )
                sections.append(rendered[key])
            groups.append((group, mark_safe("".join(sections))))  # noqa: S308 - rendered above
    return groups
