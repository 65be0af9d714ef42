"""Customers' saved shipping addresses: at most one default, at most `Address.MAX_PER_USER` each."""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from accounts.models import User


class AddressQuerySet(models.QuerySet["Address"]):
    def for_user(self, user: "User") -> "AddressQuerySet":
        return self.filter(user=user)


class Address(models.Model):
    MAX_PER_USER = 20

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=50, blank=True, help_text="The customer's name for it, such as “Home”.")
    full_name = models.CharField(max_length=200)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=32, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AddressQuerySet.as_manager()

    class Meta:
        ordering = ["-is_default", "id"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="addresses_address_one_default_per_user"
            ),
        ]

    POSTAL_FIELDS = ["full_name", "line1", "line2", "city", "region", "postal_code", "country", "phone"]

    def __str__(self) -> str:
        return f"{self.label or self.full_name}, {self.city} ({self.country})"

    def as_shipping_address(self) -> dict[str, Any]:
        """The fields checkout copies onto an order."""
        return {field: getattr(self, field) for field in self.POSTAL_FIELDS}
