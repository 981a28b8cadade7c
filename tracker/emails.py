"""One function per email kind. Each renders templates/emails/<kind>-subject.txt, -body.txt and
-body.html through `_make_message`, and returns the message unsent: workers send it."""

import copy
import functools
import re
import smtplib
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32
from io import BytesIO
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives as DjangoEmailMultiAlternatives
from django.core.mail.backends import smtp
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    EmailAlternative,
    SafeMIMEMultipart,
    SafeMIMEText,
    forbid_multi_line_headers,
    make_msgid,
)
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

if TYPE_CHECKING:
    from tracker.digests import Digest, DigestSection, NegotiationGroup

__all__ = ["SMTP_BACKEND", "EmailMultiAlternatives", "SMTPBackend", "digest"]

SMTP_BACKEND = "tracker.emails.SMTPBackend"

# What the email package's generator turns into the line separator (email.generator.NLCRE).
LINE_BREAKS = re.compile(rb"\r\n|\r|\n")


class EmailMultiAlternatives(DjangoEmailMultiAlternatives):
    """Django's message, turned into the same MIME bytes in a fraction of the time when its
    parts are UTF-8 text with no line too long for SMTP (a digest always is).

    Django builds each text part with Python's email package, which for a 100 KB digest costs
    about 3 ms: every line checked and written on its own, the body encoded and decoded twice,
    the whole text searched for the boundary with a regular expression; and each header
    encoded and folded by email.header, a subject with a dash in it taking longer than the
    rest. Here Django builds the message (every header, as it would) around one-character
    stand-ins of the same kind (ASCII or not, so the same Content-Transfer-Encoding), the real
    bodies are set as Django's set_payload would set them, the subject as Django encodes it
    (remembered: digests of a run share a few subjects), and `_Generator` writes each body at
    once, from the UTF-8 it was checked in, and remembers folded headers. Anything else (an
    attachment, another charset, a line over 998 bytes, which Django quoted-printable-encodes)
    goes Django's own way. tests/test_emails.py compares the bytes with Django's.
    """

    def message(self) -> Message:
        encoded = self._encoded_parts()
        if encoded is None:
            return super().message()
        stand_in = copy.copy(self)
        stand_in.subject = ""
        stand_in.body = _stand_in(self.body)
        stand_in.alternatives = [
            EmailAlternative(_stand_in(content), mimetype)
            for content, mimetype in self.alternatives
        ]
        message = DjangoEmailMultiAlternatives.message(stand_in)
        message.replace_header("Subject", _subject_header(str(self.subject), self.encoding))
        for part, body in zip(message.get_payload(), encoded, strict=True):
            del part._payload  # the stand-in's
            part.__class__ = _EncodedMIMEText
            part.encoded_body = body
        message.__class__ = _MIMEMultipart
        return message

    def _encoded_parts(self) -> list[bytes] | None:
        """Each part's body in UTF-8, in the message's order; None unless every part can take
        the quick way."""
        if (
            self.attachments
            or not self.alternatives
            or (self.encoding or settings.DEFAULT_CHARSET) != "utf-8"
        ):
            return None
        bodies = [self.body] if self.body else []
        for content, mimetype in self.alternatives:
            if not mimetype.startswith("text/"):
                return None
            bodies.append(content)
        encoded = []
        for body in bodies:
            if not isinstance(body, str):
                return None
            try:
                as_bytes = body.encode()
            except UnicodeEncodeError:
                return None
            if _may_have_long_lines(as_bytes):
                return None
            encoded.append(as_bytes)
        return encoded


def _stand_in(body: str) -> str:
    return "" if not body else "x" if body.isascii() else "\u00e9"


def _may_have_long_lines(encoded: bytes) -> bool:
    """Whether a line (split at CR and LF, so never shorter than str.splitlines()'s, which
    Django measures) is over RFC5322_EMAIL_LINE_LENGTH_LIMIT bytes."""
    # Such a line covers a whole aligned block of half that length: lines are measured only
    # when a block has no line break.
    block = (RFC5322_EMAIL_LINE_LENGTH_LIMIT + 1) // 2
    for start in range(0, len(encoded) - block + 1, block):
        end = start + block
        if encoded.find(b"\n", start, end) < 0 and encoded.find(b"\r", start, end) < 0:
            longest = max(map(len, encoded.splitlines()))
            return longest > RFC5322_EMAIL_LINE_LENGTH_LIMIT
    return False


class _EncodedMIMEText(SafeMIMEText):
    """Django's text part, keeping its body as the UTF-8 bytes it is sent as. The email
    package's form of it (those bytes surrogate-escaped into a str, as Message.set_payload
    stores a body in a charset) is made only if something asks for it."""

    encoded_body: bytes | None = None

    @property
    def _payload(self) -> str | None:
        if "_decoded" not in self.__dict__:
            encoded = self.encoded_body
            self._decoded = None if encoded is None else encoded.decode("ascii", "surrogateescape")
        return self._decoded

    @_payload.setter
    def _payload(self, value: str | None) -> None:
        self._decoded = value
        self.encoded_body = None


@functools.lru_cache(maxsize=1024)
def _subject_header(subject: str, encoding: str | None) -> str:
    """The Subject header's value as Django's message() sets it."""
    return forbid_multi_line_headers("Subject", subject, encoding)[1]


@functools.lru_cache(maxsize=1024)
def _folded(
    linesep: str, max_line_length: int | None, cte_type: str, name: str, value: str
) -> bytes:
    return Compat32(
        linesep=linesep, max_line_length=max_line_length, cte_type=cte_type
    ).fold_binary(name, value)


class _Generator(BytesGenerator):
    """Python's BytesGenerator, writing the same bytes: a text part's body at once (not a
    write per line), and a new boundary tested with a substring search before the email
    package's multiline regular expression over every part."""

    def _handle_text(self, msg: Message) -> None:
        if self._mangle_from_ or self.policy.cte_type == "7bit":
            super()._handle_text(msg)
            return
        body = getattr(msg, "encoded_body", None)
        if body is None:
            payload = msg._payload  # type: ignore[attr-defined]
            if not isinstance(payload, str):
                super()._handle_text(msg)
                return
            try:
                body = payload.encode("ascii", "surrogateescape")
            except UnicodeEncodeError:
                super()._handle_text(msg)  # raises as the email package does
                return
        # Every line break becomes the generator's, as _write_lines() does line by line.
        if b"\r" in body:
            body = LINE_BREAKS.sub(self._encoded_NL, body)
        elif self._encoded_NL != b"\n":
            body = body.replace(b"\n", self._encoded_NL)
        self._fp.write(body)

    _writeBody = _handle_text

    def _write_headers(self, msg: Message) -> None:
        # Most headers are the same in every digest (MIME-Version, From, each part's
        # Content-Type), and a policy folds a header the same way every time.
        policy = self.policy
        if type(policy) is not Compat32:
            super()._write_headers(msg)
            return
        for name, value in msg.raw_items():
            if isinstance(value, str):
                self._fp.write(
                    _folded(policy.linesep, policy.max_line_length, policy.cte_type, name, value)
                )
            else:
                self._fp.write(policy.fold_binary(name, value))
        self.write(self._NL)

    @classmethod
    def _make_boundary(cls, text: bytes | None = None) -> str:
        boundary = candidate = super()._make_boundary()
        if text is None or b"--" + boundary.encode("ascii") not in text:
            return boundary
        # In a part: the email package's own search and renaming.
        counter = 0
        while cls._compile_re(f"^--{re.escape(candidate)}(--)?$", re.MULTILINE).search(text):
            candidate = f"{boundary}.{counter}"
            counter += 1
        return candidate


class _MIMEMultipart(SafeMIMEMultipart):
    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        out = BytesIO()
        _Generator(out, mangle_from_=False).flatten(self, unixfrom=unixfrom, linesep=linesep)
        return out.getvalue()


class _DotStuffing:
    """smtplib's DATA, dot-stuffing a message given as bytes with bytes.replace() rather than
    smtplib's multiline regular expression, which takes half a millisecond over a 100 KB
    digest: the same bytes on the wire (RFC 5321, 4.5.2)."""

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        if not isinstance(msg, bytes):
            return super().data(msg)  # type: ignore[misc]
        self.putcmd("data")  # type: ignore[attr-defined]
        code, reply = self.getreply()  # type: ignore[attr-defined]
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        stuffed = dot_stuffed(msg)
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        self.send(stuffed + b".\r\n")  # type: ignore[attr-defined]
        return self.getreply()  # type: ignore[attr-defined]


def dot_stuffed(data: bytes) -> bytes:
    """A period starting a line doubled, as smtplib's DATA does."""
    stuffed = data.replace(b"\n.", b"\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


class _SMTP(_DotStuffing, smtplib.SMTP):
    pass


class _SMTPSSL(_DotStuffing, smtplib.SMTP_SSL):
    pass


class SMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend, dot-stuffing each message faster (`_DotStuffing`). Digests are
    sent through it wherever Django's is configured."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _SMTPSSL if self.use_ssl else _SMTP


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


DIGEST_TEMPLATES = [
    "emails/digest-subject.txt",
    *(
        f"emails/digest-body.{extension}{part}"
        for extension in ("txt", "html")
        for part in ("", "#section", "#entry")
    ),
]


def load_templates() -> None:
    """Compile the digest's templates (kept by the cached loader), e.g. before forking."""
    for name in DIGEST_TEMPLATES:
        get_template(name)


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
