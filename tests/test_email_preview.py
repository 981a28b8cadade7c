"""The digest preview's headers read as text: From, To and Subject as a list that wraps, the
delivery headers (Message-ID, List-Unsubscribe...) folded away, values shown and never run."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_headers_are_a_list_that_wraps_not_a_table(client: Client, viewer) -> None:
    """Before: a table of raw headers, its unsubscribe URL running past a phone's width."""
    client.force_login(viewer)

    page = client.get("/digests/preview").content.decode()

    section = re.search(r'<section aria-labelledby="headers-heading">(.*?)</section>', page, re.S)
    assert section and "<table" not in section.group(1)
    main = re.search(r'<dl class="email-headers" hx-disable>(.*?)</dl>', section.group(1), re.S)
    names = re.findall(r"<dt>(.*?)</dt>", main.group(1))
    assert names == ["From", "To", "Subject"]
    assert "<dd>vera@example.com</dd>" in main.group(1)
    delivery = re.search(r'<details class="email-delivery-headers">(.*?)</details>', page, re.S)
    assert "<dt>List-Unsubscribe</dt>" in delivery.group(1)
    assert "<dt>Message-ID</dt>" in delivery.group(1)


def test_header_values_stay_text(client: Client, viewer) -> None:
    viewer.email = 'vera"<script>alert(1)</script>@example.com'
    viewer.save()
    client.force_login(viewer)
    page = client.get("/digests/preview").content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
