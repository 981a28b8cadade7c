"""Staff accounts: nobody signs up; Admins create staff in /admin/.

An email address signs a user in, or receives their password reset link, only if it is trusted:
the account's own address (the email field an Admin filled in, in /admin/ or by load_demo) or
one the user proved by typing the code mailed to it. Addresses staff add themselves are held
back until that code is entered (allauth's verification by code), so an unproven address is
never on record, and adding one needs a fresh reauthentication.
"""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.forms import AddEmailForm as AllauthAddEmailForm
from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.internal.flows.reauthentication import raise_if_reauthentication_required
from allauth.account.models import EmailAddress
from allauth.core import context
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache.backends.db import DatabaseCache
from django.db import connections
from django.db.models import Q
from django.http import HttpRequest


def is_trusted_address(user: AbstractBaseUser, email: str) -> bool:
    """Whether `email` may sign `user` in and receive their password reset link."""
    return user.email.lower() == email.lower() or (
        EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()
    )


class StaffAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_stages(self) -> list[str]:
        # Verification is mandatory for addresses staff add (allauth's code flow needs that
        # setting), not for logging in: staff log in by username or a trusted address, and
        # accounts an Admin made have no verified address record, only the email field.
        return [
            stage
            for stage in super().get_login_stages()
            if stage != "allauth.account.stages.EmailVerificationStage"
        ]

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        typed = credentials.get("email")
        if (
            user is not None
            and typed
            # allauth also tries what was typed as a username; that is no address.
            and user.get_username().lower() != (credentials.get("username") or "").lower()
            and not is_trusted_address(user, typed)
        ):
            return None
        return user

    def send_password_reset_mail(
        self, user: AbstractBaseUser, email: str, context: dict[str, Any]
    ) -> None:
        if is_trusted_address(user, email):
            super().send_password_reset_mail(user, email, context)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth keys failed logins by what was typed, so five wrong passwords for an email
        # address left the username free to try. Key them by the account instead. (A private
        # method, but both the lockout and the reset that lifts it read the key through it.)
        typed = (credentials.get("email") or credentials.get("username") or "").strip()
        account = (
            get_user_model()
            .objects.filter(
                Q(username__iexact=typed)
                | Q(email__iexact=typed)
                | Q(emailaddress__email__iexact=typed)
            )
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        return f"account:{account}" if account else f"unknown:{typed.lower()}"

    def get_reauthentication_methods(self, user: AbstractBaseUser) -> list[dict]:
        # Someone with an authenticator app confirms with it: a stolen session plus a phished
        # password must not be enough to remove the app, change the password or add an address.
        methods = super().get_reauthentication_methods(user)
        with_app = [m for m in methods if m["id"].startswith("mfa_reauthenticate")]
        return with_app or methods


class AddEmailForm(AllauthAddEmailForm):
    def clean_email(self) -> str:
        email = super().clean_email()
        # allauth would quietly accept another account's address (to hide who has an account)
        # and compares the user table's addresses case-sensitively; refuse it outright.
        others = get_user_model().objects.exclude(pk=self.user.pk)
        if (
            others.filter(email__iexact=email).exists()
            or EmailAddress.objects.filter(email__iexact=email).exclude(user=self.user).exists()
        ):
            raise get_adapter().validation_error("email_taken")
        return email

    def save(self, request: HttpRequest) -> EmailAddress:
        # Once verified, allauth makes the new address the primary one (and so the account's
        # email, where digests go) unless one is primary already: keep the one an Admin gave.
        current = EmailAddress.objects.filter(user=self.user, email=self.user.email).first()
        if current:
            current.set_as_primary(conditional=True)
        return super().save(request)


class ChangePasswordForm(AllauthChangePasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Changing the password also needs a fresh reauthentication (by the app for those who
        # have one), not only the current password. Raised on the submission, so the settings
        # page opens freely; allauth replays the submission after the reauthentication.
        if self.is_bound:
            raise_if_reauthentication_required(context.request, app="allauth.account")


class LockoutCache(DatabaseCache):
    """The database cache, except that it never evicts an entry before it expires.

    It holds the failed-login counters and used authenticator codes; Django's database cache
    deletes a third of all entries, live ones too, once it holds MAX_ENTRIES, so a flood of
    failures on other names used to lift a lockout. Expired entries are still swept then.
    """

    def _cull(self, db: str, cursor: Any, now: Any, num: int) -> None:
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        expires = connection.ops.quote_name("expires")
        cursor.execute(
            f"DELETE FROM {table} WHERE {expires} < %s",  # noqa: S608 (names, not input)
            [connection.ops.adapt_datetimefield_value(now)],
        )
