"""POST orders/{id}/refunds, and cancelling a paid order: money back, within what was paid."""

from decimal import Decimal

import pytest

from catalog.models import Book, StockMovement
from catalog.tests.factories import BookFactory
from orders.models import Order
from payments.models import Payment, Refund
from payments.tests.factories import order_checked_out
from shipping.models import TaxRate
from shipping.tests.factories import TaxRateFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"


def refunds_url(order) -> str:
    return f"{ORDERS}/{order.pk}/refunds"


def error_codes(response) -> list[tuple[str, str | None]]:
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


@pytest.fixture
def paid_order(user, staff_user):
    """Two copies of a 10.00 book and one of a 20.00 book: 40.00, free shipping; paid by transfer."""
    return order_checked_out(
        user=user,
        lines=[(BookFactory(price=Decimal("10.00"), stock=5), 2), (BookFactory(price=Decimal("20.00"), stock=5), 1)],
        paid=True,
        actor=staff_user,
    )


def test_a_partial_refund_then_one_too_many(staff_client, paid_order, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = staff_client.post(refunds_url(paid_order), {"amount": "30.00", "reason": "Damaged"}, format="json")
    second = staff_client.post(refunds_url(paid_order), {"amount": "10.01", "reason": "Again"}, format="json")

    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["amount"], body["reason"], body["lines"]) == ("30.00", "Damaged", [])
    assert set(body) == {"id", "amount", "reason", "lines", "created_at"}
    assert second.status_code == 409
    assert error_codes(second) == [("refund_exceeds_paid", None)]
    assert second.json()["errors"][0]["meta"] == {"requested": "10.01", "refundable": "10.00"}
    order = staff_client.get(f"{ORDERS}/{paid_order.pk}").json()
    assert order["payment"]["status"] == "partially_refunded"
    assert (order["payment"]["amount_paid"], order["payment"]["amount_refunded"]) == ("40.00", "30.00")
    assert [r["amount"] for r in order["refunds"]] == ["30.00"]
    assert order["status"] == "paid"  # the fulfilment history is not rewritten
    assert [m.subject for m in mailoutbox] == [f"A refund on your Bookstore order {paid_order.number}"]
    assert "30.00 USD" in mailoutbox[0].body and mailoutbox[0].to == [paid_order.user.email]


def test_refunding_the_rest_makes_the_payment_refunded(staff_client, paid_order):
    staff_client.post(refunds_url(paid_order), {"amount": "15.00", "reason": "a"}, format="json")
    response = staff_client.post(refunds_url(paid_order), {"amount": "25.00", "reason": "b"}, format="json")

    assert response.status_code == 201
    assert Payment.objects.get(order=paid_order).status == "refunded"


def test_refund_by_lines_defaults_to_their_total_and_restocks_a_shipped_order(staff_client, staff_user, paid_order):
    Order.objects.filter(pk=paid_order.pk).update(status="shipped")
    cheap, dear = [line.book for line in paid_order.items.select_related("book")]

    response = staff_client.post(
        refunds_url(paid_order),
        {
            "lines": [{"book_id": cheap.pk, "quantity": 1, "restock": True}, {"book_id": dear.pk, "quantity": 1}],
            "reason": "Returned by post",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "30.00"
    assert response.json()["lines"] == [
        {"book_id": cheap.pk, "quantity": 1, "restocked": True},
        {"book_id": dear.pk, "quantity": 1, "restocked": False},
    ]
    assert Book.objects.get(pk=cheap.pk).stock == 4  # 5 - 2 sold + 1 back
    assert Book.objects.get(pk=dear.pk).stock == 4
    movement = StockMovement.objects.get(reason="return")
    assert (movement.book_id, movement.delta, movement.actor, movement.order_reference) == (
        cheap.pk,
        1,
        staff_user,
        paid_order.number,
    )


def test_a_line_cannot_be_refunded_more_often_than_it_was_bought(staff_client, paid_order):
    cheap = paid_order.items.first().book
    line = {"book_id": cheap.pk, "quantity": 2}
    first = staff_client.post(refunds_url(paid_order), {"lines": [line], "reason": "x"}, format="json")
    assert first.status_code == 201

    response = staff_client.post(refunds_url(paid_order), {"lines": [line], "reason": "x"}, format="json")

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "lines.0.quantity")]
    assert response.json()["errors"][0]["meta"] == {"book_id": cheap.pk, "requested": 2, "available": 0}


def test_restock_before_shipping_is_refused(staff_client, paid_order):
    cheap = paid_order.items.first().book

    response = staff_client.post(
        refunds_url(paid_order),
        {"lines": [{"book_id": cheap.pk, "quantity": 1, "restock": True}], "reason": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "lines.0.restock")]
    assert Book.objects.get(pk=cheap.pk).stock == 3
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    "body, attr",
    [
        ({"reason": "x"}, "amount"),
        ({"amount": "0.00", "reason": "x"}, "amount"),
        ({"amount": "-5", "reason": "x"}, "amount"),
        ({"amount": "1e12", "reason": "x"}, "amount"),
        ({"amount": "NaN", "reason": "x"}, "amount"),
        ({"amount": 1.5, "reason": "x"}, "amount"),  # money is a decimal string, never a JSON number
        ({"amount": "1.505", "reason": "x"}, "amount"),
        ({"amount": "5.00"}, "reason"),
        ({"amount": "5.00", "reason": "x" * 501}, "reason"),
        ({"lines": [{"book_id": 999999, "quantity": 1}], "reason": "x"}, "lines.0.book_id"),
        ({"lines": [{"book_id": 1, "quantity": 0}], "reason": "x"}, "lines.0.quantity"),
        ({"lines": [{"book_id": "one", "quantity": 1}], "reason": "x"}, "lines.0.book_id"),
        ({"lines": "all", "reason": "x"}, "lines.non_field_errors"),
    ],
)
def test_bad_refund_requests_are_400_and_change_nothing(staff_client, paid_order, body, attr):
    response = staff_client.post(refunds_url(paid_order), body, format="json")

    if attr is None:
        assert response.status_code == 201
        return
    assert response.status_code == 400, response.content
    assert attr in [error["attr"] for error in response.json()["errors"]]
    assert not Refund.objects.exists()
    assert Payment.objects.get(order=paid_order).amount_refunded == 0


def test_a_book_named_twice_is_refused(staff_client, paid_order):
    cheap = paid_order.items.first().book
    line = {"book_id": cheap.pk, "quantity": 1}

    response = staff_client.post(refunds_url(paid_order), {"lines": [line, line], "reason": "x"}, format="json")

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "lines")]


def test_an_unpaid_order_has_nothing_to_refund(staff_client, user):
    order = order_checked_out(user=user)

    response = staff_client.post(refunds_url(order), {"amount": "1.00", "reason": "x"}, format="json")

    assert response.status_code == 409
    assert error_codes(response) == [("refund_exceeds_paid", None)]


def test_customers_cannot_refund(user_client, other_client, paid_order):
    body = {"amount": "1.00", "reason": "x"}

    assert user_client.post(refunds_url(paid_order), body, format="json").status_code == 403
    assert other_client.post(refunds_url(paid_order), body, format="json").status_code == 404
    assert not Refund.objects.exists()


def test_the_same_idempotency_key_gives_the_same_refund(staff_client, paid_order):
    body = {"amount": "5.00", "reason": "Late"}

    first = staff_client.post(refunds_url(paid_order), body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    again = staff_client.post(refunds_url(paid_order), body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    other = staff_client.post(
        refunds_url(paid_order), {**body, "amount": "6.00"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert other.status_code == 409
    assert error_codes(other) == [("idempotency_key_reused", None)]
    assert Payment.objects.get(order=paid_order).amount_refunded == Decimal("5.00")


def test_cancelling_a_paid_order_refunds_in_full_then_restocks(
    user_client, paid_order, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(f"{ORDERS}/{paid_order.pk}/cancel")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["payment"]["status"] == "refunded"
    assert [r["amount"] for r in body["refunds"]] == ["40.00"]
    assert sorted(Book.objects.filter(order_lines__order=paid_order).values_list("stock", flat=True)) == [5, 5]
    assert StockMovement.objects.filter(reason="cancellation", order_reference=paid_order.number).count() == 2
    assert [m.subject for m in mailoutbox] == [
        f"A refund on your Bookstore order {paid_order.number}",
        f"Your Bookstore order {paid_order.number} is cancelled",
    ]


def test_staff_cancel_by_patch_refunds_too(staff_client, paid_order):
    response = staff_client.patch(f"{ORDERS}/{paid_order.pk}", {"status": "cancelled"}, format="json")

    assert response.status_code == 200
    assert response.json()["payment"]["amount_refunded"] == "40.00"


def test_cancelling_after_a_partial_refund_refunds_the_rest(staff_client, paid_order):
    staff_client.post(refunds_url(paid_order), {"amount": "12.00", "reason": "x"}, format="json")

    response = staff_client.post(f"{ORDERS}/{paid_order.pk}/cancel")

    assert [r["amount"] for r in response.json()["refunds"]] == ["12.00", "28.00"]
    assert response.json()["payment"]["status"] == "refunded"


@pytest.mark.parametrize(
    "include_tax, gross", [(False, ("31.65", "10.55", "21.10")), (True, ("30.00", "10.00", "20.00"))]
)
def test_a_line_refund_gives_back_the_lines_gross_with_its_tax_and_the_parts_add_up(
    staff_client, staff_user, user, settings, include_tax, gross
):
    """3 × 10.00 at 5.5 %: tax 1.65 on the line (exclusive), or inside its 30.00 (inclusive)."""
    settings.PRICES_INCLUDE_TAX = include_tax
    TaxRateFactory(country="GB", kind=TaxRate.Kind.PRINT, rate=Decimal("0.0550"))
    TaxRateFactory(country="GB", kind=TaxRate.Kind.SHIPPING, rate=Decimal("0"))
    book = BookFactory(price=Decimal("10.00"), stock=5, format="paperback")
    order = order_checked_out(user=user, lines=[(book, 3)], paid=True, actor=staff_user)
    line = order.items.get()
    assert (line.line_total, line.tax_amount) == (Decimal("30.00"), Decimal("1.56" if include_tax else "1.65"))

    amounts = []
    for quantity in (1, 2):
        response = staff_client.post(
            refunds_url(order), {"lines": [{"book_id": book.pk, "quantity": quantity}], "reason": "x"}, format="json"
        )
        assert response.status_code == 201, response.content
        amounts.append(response.json()["amount"])

    whole, first, rest = (Decimal(a) for a in gross)
    assert [Decimal(a) for a in amounts] == [first, rest]
    assert first + rest == whole == line.line_total + (line.tax_amount if not include_tax else 0)
    payment = Payment.objects.get(order=order)
    assert payment.amount_refunded == whole


def test_a_guests_order_is_refunded_and_the_guest_emailed(
    api_client, staff_client, staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    from orders.tests.factories import ADDRESS
    from payments import services

    book = BookFactory(price=Decimal("40.00"), stock=2)
    token = api_client.post("/api/v1/cart/items", {"book_id": book.pk}).json()["cart_token"]
    placed = api_client.post(
        ORDERS, {"shipping_address": ADDRESS, "email": "guest@example.com"}, format="json", HTTP_CART_TOKEN=token
    ).json()
    order = Order.objects.get(pk=placed["id"])
    services.order_mark_paid(order=order, actor=staff_user)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(refunds_url(order), {"amount": "5.00", "reason": "Dented"}, format="json")

    assert response.status_code == 201, response.content
    assert [m.to for m in mailoutbox if "refund" in m.subject] == [["guest@example.com"]]
