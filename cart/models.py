"""One cart per user; one line per book, holding a quantity but never a price (prices are current)."""

from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils.functional import cached_property

from catalog.models import Book


class CartQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def with_lines(self):
        """The lines and their books in one extra query, whatever the number of lines."""
        return self.prefetch_related(Prefetch("items", queryset=CartItem.objects.select_related("book").order_by("id")))

    def with_notice_flag(self):
        """Annotates `has_notices`, so that a cart without pending notices costs no query for them."""
        return self.annotate(has_notices=Exists(CartNotice.objects.filter(cart=OuterRef("pk"))))


class Cart(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CartQuerySet.as_manager()

    # What this answer tells the shopper about changes made to the cart behind their back: the
    # pending `CartNotice`s, handed over (and deleted) by the cart services.
    handed_notices: Sequence["CartNotice"] = ()

    def __str__(self):
        return f"Cart of {self.user}"

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


class CartItemQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(cart__user=user)


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

    def __str__(self):
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

    def __str__(self):
        return f"{self.code} {self.book_id} for cart {self.cart_id}"
