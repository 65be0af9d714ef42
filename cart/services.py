"""Cart writes. Every write locks the user's cart row first, which also serialises it with checkout."""

from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery, prefetch_related_objects
from django.http import Http404
from django.utils import timezone

from cart.exceptions import book_unavailable_error, quantity_too_large_error
from cart.models import Cart, CartItem
from catalog.exceptions import InsufficientStockError, Shortage
from catalog.models import Book


def _load_lines(cart: Cart) -> Cart:
    """Attaches the lines and their books to `cart` in one query (what the cart serializer reads)."""
    prefetch_related_objects([cart], Prefetch("items", queryset=CartItem.objects.select_related("book").order_by("id")))
    return cart


def _shortage(*, book: Book, requested: int) -> InsufficientStockError:
    available = book.stock if book.is_active else 0
    return InsufficientStockError(
        [Shortage(book_id=book.pk, title=book.title, requested=requested, available=available)]
    )


def cart_get(*, user) -> Cart:
    """The user's cart with its lines, created empty on first use. Two queries once it exists."""
    cart = Cart.objects.for_user(user).with_lines().first()
    if cart is None:
        Cart.objects.get_or_create(user=user)
        cart = Cart.objects.for_user(user).with_lines().get()
    return cart


def cart_lock(*, user) -> Cart:
    """Locks the user's cart row (creating the cart if needed) until the transaction ends.

    Every cart write and every checkout of one user takes this lock first, so they run one
    after the other: a checkout never sees half of a cart change, and two checkouts with one
    idempotency key cannot both create an order.
    """
    cart, _ = Cart.objects.select_for_update().get_or_create(user=user)
    return cart


def cart_lines(*, cart: Cart) -> list[CartItem]:
    """The cart's lines with their books, oldest first, in one query."""
    return list(CartItem.objects.filter(cart=cart).select_related("book").order_by("id"))


def cart_empty(*, cart: Cart) -> None:
    """Removes every line (after a checkout, or on request)."""
    CartItem.objects.filter(cart=cart).delete()
    cart.save(update_fields=["updated_at"])


@transaction.atomic
def cart_add_item(*, user, book_id: int, quantity: int = 1) -> Cart:
    """Adds copies of a book, to its existing line if there is one; the line's total must fit 1-100 and the stock."""
    cart = cart_lock(user=user)
    in_cart = CartItem.objects.filter(cart=cart, book=OuterRef("pk")).values("quantity")[:1]
    book = Book.objects.available().filter(pk=book_id).annotate(in_cart=Subquery(in_cart)).first()
    if book is None:
        raise book_unavailable_error()
    already = book.in_cart or 0
    new_quantity = already + quantity
    if new_quantity > CartItem.MAX_QUANTITY:
        raise quantity_too_large_error(in_cart=already)
    if new_quantity > book.stock:
        raise _shortage(book=book, requested=new_quantity)
    if already:
        CartItem.objects.filter(cart=cart, book=book).update(quantity=new_quantity, updated_at=timezone.now())
    else:
        CartItem.objects.create(cart=cart, book=book, quantity=new_quantity)
    cart.save(update_fields=["updated_at"])
    return _load_lines(cart)


@transaction.atomic
def cart_update_item(*, user, item_id: int, quantity: int) -> Cart:
    """Sets a line's quantity (1-100, within stock). Another user's line is a 404."""
    cart = cart_lock(user=user)
    item = CartItem.objects.filter(cart=cart, pk=item_id).select_related("book").first()
    if item is None:
        raise Http404("No such line in your cart.")
    if not item.book.is_active or quantity > item.book.stock:
        raise _shortage(book=item.book, requested=quantity)
    CartItem.objects.filter(pk=item.pk).update(quantity=quantity, updated_at=timezone.now())
    cart.save(update_fields=["updated_at"])
    return _load_lines(cart)


@transaction.atomic
def cart_remove_item(*, user, item_id: int) -> Cart:
    """Deletes one line. Another user's line is a 404."""
    cart = cart_lock(user=user)
    deleted, _ = CartItem.objects.filter(cart=cart, pk=item_id).delete()
    if not deleted:
        raise Http404("No such line in your cart.")
    cart.save(update_fields=["updated_at"])
    return _load_lines(cart)


@transaction.atomic
def cart_clear(*, user) -> None:
    """Empties the user's cart."""
    cart_empty(cart=cart_lock(user=user))
