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
    from tracker.digests import Digest, DigestSection, NegotiationGroup

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

    Digests rendered with the same `rendered` dict look each section they share up once; a
    section or entry is rendered once per process: most of a digest is the same for everyone
    who watches the same items.
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


# Renderings of digest sections and entries by everything they depend on (the compiled
# partial, the time zone, the language and every field shown), kept between the batches a
# worker sends: the same sections and changes are in most digests of a run. Emptied when they
# grow past RENDERINGS_KEPT.
RENDERINGS_KEPT = 20_000
_renderings: dict[tuple[object, ...], str] = {}


def _digest_sections(
    digest: "Digest", extension: str, rendered: dict[tuple[object, ...], str]
) -> list[tuple["NegotiationGroup", str]]:
    """Each group of the digest with its sections rendered by the `section` and `entry`
    partials of emails/digest-body.<extension>."""
    section_template = get_template(f"emails/digest-body.{extension}#section")
    entry_template = get_template(f"emails/digest-body.{extension}#entry")
    zone, language = digest.time_zone, translation.get_language()
    if len(_renderings) > RENDERINGS_KEPT:
        _renderings.clear()
    groups = []
    with timezone.override(zone):
        for group in digest.groups:
            sections = []
            for section in group.sections:
                # Digests built together share their section objects: looked up by identity
                # for each digest, by content once.
                if (extension, zone, section) not in rendered:
                    rendered[extension, zone, section] = _section(
                        section, section_template, entry_template, zone, language
                    )
                sections.append(rendered[extension, zone, section])
            groups.append((group, mark_safe("".join(sections))))  # noqa: S308 - rendered above
    return groups


def _section(
    section: "DigestSection",
    section_template: Any,
    entry_template: Any,
    zone: str,
    language: str,
) -> str:
    shown = (section.kind, section.title, section.url, section.more_url, section.total)
    key = (section_template.template, zone, language, *shown, *section.entries)
    if key not in _renderings:
        entries = []
        for entry in section.entries:
            entry_key = (entry_template.template, zone, language, entry)
            if entry_key not in _renderings:
                _renderings[entry_key] = entry_template.render({"entry": entry})
            entries.append(_renderings[entry_key])
        _renderings[key] = section_template.render({"section": section, "entries": entries})
    return _renderings[key]
