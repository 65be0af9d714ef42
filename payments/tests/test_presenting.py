"""The order's answer by plain functions (orders.presenting, payments.presenting) is the serializers',
byte for byte: on orders in every state, with and without a payment, refunds, tax, a guest's token,
for their owner and for another reader, in UTC and another time zone."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from accounts.tests.factories import UserFactory
from catalog.models import Book
from catalog.tests.factories import BookFactory
from orders import presenting as order_presenting
from orders import services as order_services
from orders.models import Order
from orders.serializers import CheckedOutOrderSerializer, OrderSerializer
from orders.tests.factories import ADDRESS, cart_with
from payments import presenting, services
from payments.models import Payment
from payments.serializers import CheckedOutOrderWithPaymentSerializer, OrderWithPaymentSerializer
from payments.tests.factories import order_checked_out
from payments.views import OrderViewSet
from shipping.models import TaxRate
from shipping.tests.factories import ShippingMethodFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

PARIS = ADDRESS | {"city": "Paris", "postal_code": "75001", "country": "FR", "phone": "", "line2": "Bât. B — 3ᵉ"}


def _bytes(data) -> bytes:
    return JSONRenderer().render(data)


def _read(orders: list[Order], staff) -> list[Order]:
    """The orders as the order views read them (their queryset's joins and prefetches), in the given order."""
    view = OrderViewSet()
    view.request = SimpleNamespace(user=staff)  # staff: every order
    view.format_kwarg = None
    by_id = {order.pk: order for order in view.get_queryset().filter(pk__in=[order.pk for order in orders])}
    return [by_id[order.pk] for order in orders]


@pytest.fixture
def orders(fake_stripe):
    """Orders in every state the API shows, each with something of its own."""
    customer, other = UserFactory(), UserFactory()
    ShippingMethodFactory(code="express", name="Express", price=Decimal("15.00"), countries=["FR"])
    for kind, rate in (
        (TaxRate.Kind.PRINT, "0.0550"),
        (TaxRate.Kind.DIGITAL, "0.2000"),
        (TaxRate.Kind.SHIPPING, "0.2"),
    ):
        TaxRateFactory(country="FR", kind=kind, rate=Decimal(rate))
    novel = BookFactory(price=Decimal("19.99"), format=Book.Format.PAPERBACK, stock=50, title="L'Étranger")
    ebook = BookFactory(price=Decimal("0.01"), format=Book.Format.EBOOK, stock=50)
    staff = UserFactory(is_staff=True)

    pending = order_checked_out(user=customer, lines=[(novel, 3), (ebook, 7)])
    paid = order_checked_out(user=customer, paid=True, actor=staff)
    refunded = order_checked_out(user=customer, lines=[(novel, 2)], paid=True, actor=staff)
    order_services.order_ship(
        order=refunded,
        actor=staff,
        carrier="La Poste",
        tracking_number="6A123",
        tracking_url="https://track.example/6A123",
    )
    services.refund_create(
        order=refunded,
        actor=staff,
        reason="Damaged «copy»",
        lines=[{"book_id": novel.pk, "quantity": 1, "restock": True}],
    )
    services.refund_create(order=refunded, actor=staff, reason="Goodwill", amount=Decimal("0.5"))
    card = order_checked_out(user=customer, method="stripe")
    cart_with(customer, (novel, 1))
    taxed = services.order_checkout(
        user=customer, address=dict(PARIS), shipping_method="express", payment_method="manual"
    )
    cancelled = order_checked_out(user=other)
    services.order_set_status(order=cancelled, status=Order.Status.CANCELLED, actor=staff, note="Asked by phone")
    cart_with(customer, (ebook, 1))
    unpaid_legacy = order_services.order_place(user=customer, address=dict(ADDRESS))  # no payment row
    failed = order_checked_out(user=customer, method="stripe")
    Payment.objects.filter(order=failed).update(last_error="Your card was declined.")
    return {
        "customer": customer,
        "other": other,
        "staff": staff,
        "orders": [pending, paid, refunded, card, taxed, cancelled, unpaid_legacy, failed],
    }


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Chatham"])
@pytest.mark.parametrize("reader", ["customer", "other", "staff", "anonymous"])
def test_an_order_page_is_the_serializers_answer(orders, reader, zone):
    user = AnonymousUser() if reader == "anonymous" else orders[reader]
    request = SimpleNamespace(user=user)
    page = _read(orders["orders"], orders["staff"])

    with timezone.override(zone):
        expected = _bytes(OrderWithPaymentSerializer(page, many=True, context={"request": request}).data)
        answered = _bytes(presenting.present_list(page, {"request": request}))
        one = [_bytes(presenting.present(order, {"request": request})) for order in page]
        serialized_one = [
            _bytes(OrderWithPaymentSerializer(order, context={"request": request}).data) for order in page
        ]

    assert answered == expected
    assert one == serialized_one
    assert b'"client_secret":"pi_' in expected if reader == "customer" else b'"client_secret":"pi_' not in expected
    assert b'"amount":"0.50"' in expected and "Bât. B — 3ᵉ".encode() in expected  # the cases are there


def test_checkouts_answer_is_the_serializers_for_a_guest_and_a_customer(orders):
    request = SimpleNamespace(user=AnonymousUser())
    [guest_order, customer_order] = _read([orders["orders"][0], orders["orders"][1]], orders["staff"])
    guest_order.token = "guest-secret-token"
    guest_order.user_id = None

    for order in (guest_order, customer_order):
        context = {"request": request}
        assert _bytes(presenting.present_checkout(order, context)) == _bytes(
            CheckedOutOrderWithPaymentSerializer(order, context=context).data
        )
        assert _bytes(order_presenting.present_checkout(order, context)) == _bytes(
            CheckedOutOrderSerializer(order, context=context).data
        )
        assert _bytes(order_presenting.present(order, context)) == _bytes(OrderSerializer(order, context=context).data)
    assert presenting.present_checkout(guest_order, {"request": request})["order_token"] == "guest-secret-token"
    assert "order_token" not in presenting.present_checkout(customer_order, {"request": request})


def test_every_order_view_answers_as_the_serializers_did(
    api_client, staff_client, user_client, user, fake_stripe, monkeypatch
):
    """Through the views: a guest's card checkout (its client secret is the guest's), the guest's
    read and cancel by Order-Token, a customer's checkout and list, staff's status change."""
    compared = []

    def checking(presenter, serializer_class):
        def present(instance, context):
            answer = presenter(instance, context)
            expected = serializer_class(instance, many=presenter.many, context=context).data
            compared.append(_bytes(answer) == _bytes(expected))
            return answer

        return staticmethod(present)

    monkeypatch.setattr(OrderViewSet, "present", checking(presenting.present, OrderWithPaymentSerializer))
    monkeypatch.setattr(OrderViewSet, "present_list", checking(presenting.present_list, OrderWithPaymentSerializer))
    monkeypatch.setattr(
        OrderViewSet, "present_checkout", checking(presenting.present_checkout, CheckedOutOrderWithPaymentSerializer)
    )
    book = BookFactory(stock=10)
    cart_token = api_client.post("/api/v1/cart/items", {"book_id": book.pk, "quantity": 2}).json()["cart_token"]

    checkout = api_client.post(
        "/api/v1/orders",
        {"shipping_address": ADDRESS, "email": "guest@example.com", "payment_method": "stripe"},
        HTTP_CART_TOKEN=cart_token,
    )
    assert checkout.status_code == 201, checkout.content
    guest_order = checkout.json()
    assert guest_order["payment"]["client_secret"].startswith("pi_") and guest_order["order_token"]
    read = api_client.get(f"/api/v1/orders/{guest_order['id']}", HTTP_ORDER_TOKEN=guest_order["order_token"])
    assert read.json()["payment"]["client_secret"] == guest_order["payment"]["client_secret"]
    assert (
        api_client.post(
            f"/api/v1/orders/{guest_order['id']}/cancel", HTTP_ORDER_TOKEN=guest_order["order_token"]
        ).status_code
        == 200
    )

    cart_with(user, (book, 1))
    mine = user_client.post("/api/v1/orders", {"shipping_address": ADDRESS, "payment_method": "manual"}).json()
    assert "order_token" not in mine
    assert user_client.get("/api/v1/orders").json()["results"][0]["id"] == mine["id"]
    assert staff_client.patch(f"/api/v1/orders/{mine['id']}", {"status": "paid"}).status_code == 200
    assert staff_client.get("/api/v1/orders", {"status": "paid"}).json()["count"] == 1

    assert len(compared) == 7 and all(compared)
