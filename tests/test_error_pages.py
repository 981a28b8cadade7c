"""Error pages in the site's look, and the favicon browsers ask for: a 400, 403 (a role's refusal
and an expired form), 404 and 500 keep the header, the stylesheet and the icon; the 400, 500 and
expired-form pages are plain files that cannot fail while the app is failing."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError
from django.template import engines
from django.test import Client

from tracker.models import Provision

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
STYLESHEET = re.compile(r'<link rel="stylesheet" href="/static/tracker/app\.css[^"]*">')
ICON = re.compile(r'<link rel="icon" href="/static/tracker/favicon\.svg[^"]*"')


def _looks_like_the_site(body: str) -> None:
    assert STYLESHEET.search(body) and ICON.search(body)
    assert '<header class="site-header">' in body and '<main id="main">' in body


def test_a_missing_page_is_a_404_in_the_sites_look(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    response = client.get("/provisions/99999999/")
    assert response.status_code == 404
    body = response.content.decode()
    _looks_like_the_site(body)
    assert "<h1>Not found</h1>" in body and 'href="/"' in body
    # In words for staff, not get_object_or_404's "No Provision matches the given query."
    assert "There is nothing at <code>/provisions/99999999/</code>" in body
    assert "matches the given query" not in body


def test_a_404_of_our_own_says_why(client: Client, editor) -> None:
    client.force_login(editor)
    body = client.post("/feeds/nonsense/refresh/").content.decode()
    assert "No such feed." in body


def test_a_refusal_is_a_403_in_the_sites_look_with_its_reason(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    provision = Provision.objects.filter(negotiation=demo).first()
    response = client.post(f"/provisions/{provision.pk}/notes", {"text": "hello"})
    assert response.status_code == 403
    body = response.content.decode()
    _looks_like_the_site(body)
    assert "Your role can read but not add notes." in body


def test_an_expired_form_is_a_403_in_the_sites_look(viewer, demo) -> None:
    """Before: Django's own CSRF page, unstyled and in developer's words."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer)
    response = client.post("/digests/preferences/", {"frequency": "daily"})
    assert response.status_code == 403
    body = response.content.decode()
    _looks_like_the_site(body)
    assert "This form has expired" in body and "Nothing was saved" in body


def test_a_server_error_is_a_500_in_the_sites_look(monkeypatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("the table went away")

    monkeypatch.setattr("tracker.views.favicon.static", broken)
    response = Client(raise_request_exception=False).get("/favicon.ico")
    assert response.status_code == 500
    body = response.content.decode()
    _looks_like_the_site(body)
    assert "Something went wrong" in body


def test_a_bad_request_is_a_400_in_the_sites_look(client: Client) -> None:
    response = client.get("/", headers={"Host": "evil.example.com"})
    assert response.status_code == 400
    _looks_like_the_site(response.content.decode())


@pytest.mark.parametrize("name", ["400.html", "403_csrf.html", "500.html"])
def test_the_pages_rendered_without_a_request_have_no_tags(name: str) -> None:
    """Django renders these with no context (or no request): a tag that needs either, or any
    that could fail, would turn the error into a worse one."""
    source = (TEMPLATES / name).read_text()
    assert "{%" not in source and "{{" not in source
    engines["django"].from_string(source).render({})


def test_browsers_asking_for_favicon_ico_get_the_icon(client: Client) -> None:
    """Before: a 404 in the console of every page that names no icon (the admin, the 500)."""
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/tracker/favicon.svg"
    assert "max-age=86400" in response["Cache-Control"]
    assert client.post("/favicon.ico").status_code == 405


def test_the_admin_names_the_icon(client: Client, admin_user, demo) -> None:
    client.force_login(admin_user)
    session = client.session
    # An Admin's session that confirmed its code (tracker.middleware.AdminsNeedTwoFactor...).
    session["account_authentication_methods"] = [{"method": "mfa", "at": 0}]
    session.save()
    body = client.get("/admin/").content.decode()
    assert ICON.search(body)
