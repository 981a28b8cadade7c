"""XML parsing for the vote feeds with entity expansion, external entities and network off."""

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree

from tracker.feeds.client import FeedError


class FeedFormatError(FeedError):
    """The body is not the document we expected: malformed, HTML, hostile or the wrong root."""


def parse_xml(body: bytes, *, root: str, what: str) -> Element:
    """Parse `body` and check its root tag; raise FeedFormatError naming `what` otherwise.

    The House's files carry a DOCTYPE pointing at an external DTD, so DOCTYPEs are allowed, but
    entity declarations (billion laughs, XXE) are refused and nothing is ever fetched.
    """
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        raise FeedFormatError(f"{what}: an HTML page where XML was expected (not published yet?)")
    try:
        element = SafeElementTree.fromstring(body, forbid_dtd=False)
    except DefusedXmlException as error:
        raise FeedFormatError(f"{what}: refused hostile XML ({type(error).__name__})") from None
    except ParseError as error:
        raise FeedFormatError(f"{what}: malformed XML ({error})") from None
    if element.tag != root:
        raise FeedFormatError(f"{what}: expected <{root}>, got <{element.tag}>")
    return element


def text(element: Element | None, path: str) -> str:
    """Whitespace-collapsed text at `path`, or "" when the element or its text is missing."""
    if element is None:
        return ""
    found = element.find(path)
    if found is None or found.text is None:
        return ""
    return " ".join(found.text.split())


def count(element: Element | None, path: str) -> int | None:
    """A published count: empty means 0, a missing element means unknown (None)."""
    if element is None or element.find(path) is None:
        return None
    value = text(element, path)
    if not value:
        return 0
    if not value.isdigit():
        raise ValueError(f"{path} is not a count: {value!r}")
    return int(value)
