"""The cart as the contract shows it, and the inputs of its endpoints."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookstore.fields import StrictTextSerializer
from bookstore.filters import MAX_ID
from cart.models import Cart, CartItem, CartNotice
from catalog.models import Book


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, **kwargs)


class CartBookSerializer(serializers.ModelSerializer):
    cover_url = serializers.SerializerMethodField()
    price = _money()
    stock = serializers.IntegerField(read_only=True, help_text="Copies in stock now.")
    in_stock = serializers.BooleanField(read_only=True)

    class Meta:
        model = Book
        fields = ["id", "title", "price", "cover_url", "stock", "in_stock"]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_cover_url(self, book: Book) -> str | None:
        if not book.cover:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(book.cover.url) if request else book.cover.url


class CartItemSerializer(serializers.ModelSerializer):
    book = CartBookSerializer(read_only=True)
    unit_price = _money(help_text="The book's current price.")
    line_total = _money()
    available = serializers.BooleanField(
        source="is_available",
        read_only=True,
        help_text="False when the book was withdrawn or has fewer copies in stock than this line asks for.",
    )

    class Meta:
        model = CartItem
        fields = ["id", "book", "quantity", "unit_price", "line_total", "available"]
        read_only_fields = fields


class CartNoticeSerializer(serializers.ModelSerializer):
    book_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = CartNotice
        fields = ["code", "book_id", "detail"]
        read_only_fields = fields


class CartSerializer(serializers.ModelSerializer):
    items = CartItemSerializer(source="lines", many=True, read_only=True)
    notices = CartNoticeSerializer(
        source="handed_notices",
        many=True,
        read_only=True,
        help_text="What changed in the cart since its last answer, each told once: `withdrawn` when a book "
        "left the catalog and so the cart. Usually empty.",
    )
    total_quantity = serializers.IntegerField(read_only=True, help_text="Copies in the cart, withdrawn books excluded.")
    subtotal = _money(help_text="Sum of the line totals at current prices, withdrawn books excluded.")
    currency = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cart_token = serializers.CharField(
        source="token",
        read_only=True,
        allow_null=True,
        help_text="An anonymous cart's token (send it as `Cart-Token`); null for a signed-in user's cart.",
    )

    class Meta:
        model = Cart
        fields = ["items", "total_quantity", "subtotal", "currency", "updated_at", "cart_token", "notices"]
        read_only_fields = fields

    def get_currency(self, cart: Cart) -> str:
        return settings.STORE_CURRENCY


CART_TOKEN_MAX_LENGTH = 128


def clean_cart_token(value) -> str | None:
    """A cart token as a client sent it, or None when it cannot be one (it then opens no cart)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > CART_TOKEN_MAX_LENGTH or not value.isascii() or not value.isprintable():
        return None
    return value


def request_cart_token(request) -> str | None:
    """The `Cart-Token` header; present but malformed, it names no cart (a 404 where a cart is needed)."""
    raw = request.headers.get("Cart-Token")
    if raw is None:
        return None
    return clean_cart_token(raw) or "-"  # "-" is no token's value: unknown, so 404


class CartItemCreateSerializer(StrictTextSerializer):
    book_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(
        min_value=CartItem.MIN_QUANTITY, max_value=CartItem.MAX_QUANTITY, default=CartItem.MIN_QUANTITY
    )


class CartItemUpdateSerializer(StrictTextSerializer):
    partial_on_patch = False  # PATCH cart/items/{id} needs `quantity` (bookstore.openapi)

    quantity = serializers.IntegerField(
        min_value=CartItem.MIN_QUANTITY,
        max_value=CartItem.MAX_QUANTITY,
        help_text="1-100; remove a line with DELETE instead of setting 0.",
    )
