"""Orders: a snapshot of a checked-out cart, its shipping address, and the history of its status."""

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from catalog.models import Book

if TYPE_CHECKING:
    from accounts.models import User

# Crockford's base32 alphabet: no I, L, O or U, so a number read over the phone is unambiguous.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def order_number_new() -> str:
    """`BK-` and 10 random base32 characters (50 bits): unique in practice, never guessable from the id."""
    return "BK-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(10))


def order_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OrderQuerySet(models.QuerySet["Order"]):
    def for_user(self, user: "User") -> "OrderQuerySet":
        """The orders `user` may see: their own, or every order for staff."""
        if user.is_staff:
            return self
        return self.filter(user=user)

    def for_order_token(self, token: str) -> "OrderQuerySet":
        """The one order an Order-Token opens."""
        return self.filter(order_token_hash=order_token_hash(token))

    def with_details(self) -> "OrderQuerySet":
        """Lines and status history in two extra queries, whatever the number of orders."""
        return self.prefetch_related("items", "status_history")


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"
        SHIPPED = "shipped"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"

    # The arrows of the contract; every other move is refused.
    TRANSITIONS = {
        Status.PENDING: {Status.PAID, Status.CANCELLED},
        Status.PAID: {Status.SHIPPED, Status.CANCELLED},
        Status.SHIPPED: {Status.DELIVERED},
        Status.DELIVERED: set(),
        Status.CANCELLED: set(),
    }

    number = models.CharField(max_length=16, unique=True, default=order_number_new, editable=False)
    # Null for a guest's order (until its email is verified by an account: `guest_orders_claim`).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    email = models.EmailField(max_length=254, blank=True, db_index=True, help_text="Where the order's emails go.")
    # A guest's Order-Token, as its SHA-256 (the token itself is only in the 201 answer and the email).
    order_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_cost = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # Checkout's pricing (orders.pricing), snapshotted: the method, the tax on shipping, whether prices included tax.
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    shipping_tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    prices_include_tax = models.BooleanField(default=False)
    shipping_method_code = models.CharField(max_length=32, default="standard")
    shipping_method_name = models.CharField(max_length=100, default="Standard")

    shipping_full_name = models.CharField(max_length=200)
    shipping_line1 = models.CharField(max_length=200)
    shipping_line2 = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100)
    shipping_region = models.CharField(max_length=100, blank=True)
    shipping_postal_code = models.CharField(max_length=20)
    shipping_country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    shipping_phone = models.CharField(max_length=32, blank=True)

    # Filled in when staff ship the order (`orders.services.order_ship`); shown to the customer.
    carrier = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True, db_index=True)
    tracking_url = models.URLField(max_length=500, blank=True)

    # Checkout retries: the client's Idempotency-Key, and a hash of the body it came with.
    idempotency_key = models.CharField(max_length=255, blank=True, editable=False)
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="orders_order_idempotency_key_once_per_user",
            ),
            # A guest's key is stored scoped to their cart (`guest:<sha256>`: orders.services), unique by itself.
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__startswith="guest:"),
                name="orders_order_guest_idempotency_key_once",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, shipping_cost__gte=0), name="orders_order_amounts_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="orders_order_user_recent")]

    # Set by checkout for the 201 answer to a guest: the Order-Token (only its hash is kept).
    token: str | None = None

    def __str__(self) -> str:
        return self.number

    @property
    def shipping_method(self) -> dict[str, str]:
        return {"code": self.shipping_method_code, "name": self.shipping_method_name}

    @property
    def email_to(self) -> str:
        """Where the order's emails go: its `email` (a guest has no user), else its user's address."""
        if not self.email and self.user is not None:
            return self.user.email
        return self.email

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]

    def can_cancel(self) -> bool:
        return self.can_move_to(self.Status.CANCELLED)

    @property
    def shipping_address(self) -> dict[str, str]:
        return {
            "full_name": self.shipping_full_name,
            "line1": self.shipping_line1,
            "line2": self.shipping_line2,
            "city": self.shipping_city,
            "region": self.shipping_region,
            "postal_code": self.shipping_postal_code,
            "country": self.shipping_country,
            "phone": self.shipping_phone,
        }


class OrderLine(models.Model):
    """A book as it was sold: title, ISBN and price are copied, so later catalog edits never change it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="order_lines")
    title = models.CharField(max_length=300)
    isbn = models.CharField(max_length=13)
    unit_price = models.DecimalField(max_digits=7, decimal_places=2)
    quantity = models.PositiveSmallIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "book"], name="orders_orderline_one_per_book"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_orderline_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"


class OrderStatusChange(models.Model):
    """One line of an order's history: the status it entered, when, by whom and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_history")
    status = models.CharField(max_length=12, choices=Order.Status.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "status change"

    def __str__(self) -> str:
        return f"{self.order_id} → {self.status}"


class InvoiceCounter(models.Model):
    """The last invoice number given: one row, locked while the next number is allotted (`invoice_issue`)."""

    name = models.CharField(max_length=20, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_number}"


class Invoice(models.Model):
    """An order's invoice: numbered 1, 2, 3… without gaps, in the order they were issued, once per order."""

    PREFIX = "INV-"

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    number = models.PositiveIntegerField(unique=True, editable=False)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"{self.PREFIX}{self.number:06d}"


# The schema's enum name for an order's status (bookstore.settings ENUM_NAME_OVERRIDES).
ORDER_STATUS_CHOICES = Order.Status.choices
