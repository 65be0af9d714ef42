from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.email_addresses import EmailAddressError, email_normalize, email_normalize_lenient


class UserManager(BaseUserManager["User"]):
    """Bulk changes of users' rows go through `accounts.services.users_update` (their cached rows stop counting)."""

    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """For lookups: the stored form of an address (`accounts.email_addresses`), so one mailbox is one account."""
        return email_normalize_lenient(email)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=self.normalize_email(username))

    def _create_user(self, email: str, password: str | None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=email_normalize(email), **extra_fields)  # EmailAddressError is a ValueError
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("is_email_verified", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or a member of staff; the email address is the login."""

    email = models.EmailField("email address", max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Can use the back office and the staff API.")
    is_active = models.BooleanField(default=True, help_text="Unset to refuse this account at once.")
    is_email_verified = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    access_denials_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Some access tokens of this user are denied (logged out) until then; "
        "while it lies ahead, reading the row for a token reads the denials too.",
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        try:
            self.email = email_normalize(self.email or "")
        except EmailAddressError as error:
            raise ValidationError({"email": str(error)}) from None

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    @property
    def display_name(self) -> str:
        """A public name for reviews: first name and last initial, never the email."""
        if self.first_name:
            initial = f" {self.last_name[0]}." if self.last_name else ""
            return f"{self.first_name}{initial}"
        return f"Reader {self.pk}"


class RefreshTokenLineage(models.Model):
    """The login a rotated refresh token descends from: a logout ends the whole family.

    One row per token issued by a rotation; a login's own token has none (its family is its
    own `jti`, as for the tokens issued before families were recorded). Rotation is
    single-use, so a family is one chain: every token rotated from a given one is in it.
    """

    token = models.OneToOneField(
        "token_blacklist.OutstandingToken", primary_key=True, on_delete=models.CASCADE, related_name="lineage"
    )
    family = models.CharField(max_length=255, db_index=True, help_text="The jti of the login's refresh token.")

    def __str__(self) -> str:
        return f"{self.token_id} of family {self.family}"


class AccessTokenDenial(models.Model):
    """An access token ended by a logout, kept until it would have expired anyway (`flushexpireddenials`).

    The shared cache holds the same denials as a fast path; this row is what a cache restart
    cannot lose (`accounts.denylist` reads it with the user's row).
    """

    jti = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_token_denials")
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"access token {self.jti} of user {self.user_id}"
