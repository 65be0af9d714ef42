"""One cart per user, or an anonymous cart keyed by a secret token; one line per book, holding a quantity but never a
price (prices are current)."""

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.functional import cached_property

from catalog.models import Book

if TYPE_CHECKING:
    from accounts.models import User


def cart_token_new() -> str:
    """An anonymous cart's secret: 256 random bits, URL-safe. Only its hash is stored."""
    return secrets.token_urlsafe(32)


def cart_token_hash(token: str) -> str:
    """SHA-256 of the token: a secret this random needs no salt or slow hash, and the lookup stays one index probe."""
    return hashlib.sha256(token.encode()).hexdigest()


def anonymous_cart_cutoff() -> datetime:
    """Anonymous carts unchanged since before this have expired (`ANONYMOUS_CART_DAYS`)."""
    return timezone.now() - timedelta(days=settings.ANONYMOUS_CART_DAYS)


class CartQuerySet(models.QuerySet["Cart"]):
    def for_user(self, user: "User") -> "CartQuerySet":
        return self.filter(user=user)

    def for_token(self, token: str) -> "CartQuerySet":
        """The live anonymous cart this token opens (none once it expired)."""
        return self.filter(token_hash=cart_token_hash(token), updated_at__gte=anonymous_cart_cutoff())

    def expired(self) -> "CartQuerySet":
        return self.filter(user__isnull=True, updated_at__lt=anonymous_cart_cutoff())

    def with_lines(self) -> "CartQuerySet":
        """The lines and their books in one extra query, whatever the number of lines."""
        return self.prefetch_related(Prefetch("items", queryset=CartItem.objects.in_line_order()))

    def with_notice_flag(self) -> "CartQuerySet":
        """Annotates `has_notices`, so that a cart without pending notices costs no query for them."""
        # The plugin types the annotation as a second `has_notices`; it is the one `Cart` declares.
        return self.annotate(has_notices=Exists(CartNotice.objects.filter(cart=OuterRef("pk"))))  # type: ignore[no-redef]


class Cart(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cart"
    )
    # An anonymous cart's key: the SHA-256 of its Cart-Token (unique, so indexed); null for a user's cart.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = CartQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, token_hash__isnull=True)
                | Q(user__isnull=True, token_hash__isnull=False),
                name="cart_cart_user_or_token",
            ),
        ]

    # Set by the services for the response: the anonymous cart's token, as the request sent it (only its hash is kept).
    token: str | None = None
    # What this answer tells the shopper about changes made to the cart behind their back: the
    # pending `CartNotice`s, handed over (and deleted) by the cart services.
    handed_notices: Sequence["CartNotice"] = ()
    # Whether notices are pending: annotated by `with_notice_flag()`, or set by the cart services.
    has_notices: bool

    def __str__(self) -> str:
        return f"Cart of {self.user}" if self.user_id else f"Anonymous cart {self.pk}"

    @cached_property
    def lines(self) -> list["CartItem"]:
        """The lines, oldest first, with their books: load the cart `with_lines()`, or set them."""
        return list(self.items.all())

    @property
    def total_quantity(self) -> int:
        """Copies in the cart, not counting withdrawn books (they can never be bought)."""
        return sum(line.quantity for line in self.lines if line.book.is_active)

    @property
    def subtotal(self) -> Decimal:
        """Sum of the lines at current prices, not counting withdrawn books."""
        return sum((line.line_total for line in self.lines if line.book.is_active), Decimal("0.00"))


class CartItemQuerySet(models.QuerySet["CartItem"]):
    def in_line_order(self) -> "CartItemQuerySet":
        """With their books, oldest first: a cart's lines as `Cart.lines` lists them."""
        return self.select_related("book__stock_record").order_by("id")


class CartItem(models.Model):
    MIN_QUANTITY = 1
    MAX_QUANTITY = 100

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="cart_items")
    quantity = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CartItemQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "book"], name="cart_cartitem_one_line_per_book"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=100), name="cart_cartitem_quantity_1_to_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.book_id}"

    @property
    def unit_price(self) -> Decimal:
        return self.book.price

    @property
    def line_total(self) -> Decimal:
        return (self.book.price * self.quantity).quantize(Decimal("0.01"))

    @property
    def is_available(self) -> bool:
        """False when the book was withdrawn or has fewer copies than the line asks for."""
        return self.book.is_active and self.book.stock >= self.quantity


class CartNotice(models.Model):
    """Something the shop did to a cart that its owner has not been told yet (a withdrawn book's line removed).

    Written by the change itself, in its transaction; the cart's next answer lists it and deletes it.
    """

    class Code(models.TextChoices):
        WITHDRAWN = "withdrawn"

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="notices")
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="cart_notices")
    code = models.CharField(max_length=20, choices=Code.choices)
    detail = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Told once: a book withdrawn twice before the cart is read is one notice.
            models.UniqueConstraint(fields=["cart", "book", "code"], name="cart_cartnotice_once_per_book_and_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.book_id} for cart {self.cart_id}"
