"""The orders desk over HTTP, as staff use it: search, filters, moves with a note, shipping with
tracking, packing slips and invoices as PDF, CSV export of the filtered list."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from bookstore.tests.concurrency import run_together
from catalog.tests.factories import BookFactory
from orders import services
from orders.models import Invoice, InvoiceCounter, Order
from orders.tests.factories import ADDRESS, cart_with, order_placed
from payments import services as payments_services

CHANGELIST = "/admin/orders/order/"


def order_to(user, *, name: str, city: str, status: str | None = None, method: str = "standard") -> Order:
    cart_with(user, (BookFactory(stock=10), 1))
    order = payments_services.order_checkout(
        user=user, address={**ADDRESS, "full_name": name, "city": city}, shipping_method=method
    )
    if status:
        Order.objects.filter(pk=order.pk).update(status=status)
        order.refresh_from_db()
    return order


def listed(response) -> list[str]:
    assert response.status_code == 200
    return [order.number for order in response.context["cl"].result_list]


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
def test_search_finds_orders_by_customer_name_city_and_email(admin_client, user, other_user):
    ada = order_to(user, name="Ada Lovelace", city="London")
    grace = order_to(other_user, name="Grace Hopper", city="Arlington")

    assert listed(admin_client.get(CHANGELIST, {"q": "hopper"})) == [grace.number]
    assert listed(admin_client.get(CHANGELIST, {"q": "london"})) == [ada.number]
    assert listed(admin_client.get(CHANGELIST, {"q": user.email})) == [ada.number]
    assert listed(admin_client.get(CHANGELIST, {"q": grace.number})) == [grace.number]


@pytest.mark.django_db
def test_filters_by_status_payment_shipping_method_and_day(admin_client, user):
    pending = order_to(user, name="A", city="Leeds")
    paid = order_to(user, name="B", city="York", status=Order.Status.PAID)
    old = order_to(user, name="C", city="Bath")

    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=60))

    assert listed(admin_client.get(CHANGELIST, {"status__exact": "paid"})) == [paid.number]
    assert set(listed(admin_client.get(CHANGELIST, {"payment__status__exact": "unpaid"}))) == {
        pending.number,
        paid.number,
        old.number,
    }
    assert set(listed(admin_client.get(CHANGELIST, {"placed": "30d"}))) == {pending.number, paid.number}
    assert set(listed(admin_client.get(CHANGELIST, {"shipping_method": "standard"}))) == {
        pending.number,
        paid.number,
        old.number,
    }
    assert listed(admin_client.get(CHANGELIST, {"shipping_method": "no-such-method"})) == []


@pytest.mark.django_db
def test_a_bulk_move_records_the_note_the_staff_typed(admin_client, user):
    order = order_placed(user=user)
    response = admin_client.post(
        CHANGELIST,
        {"action": "mark_paid", "note": "Transfer arrived on Tuesday.", ACTION_CHECKBOX_NAME: [order.pk]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["1 order(s) now paid."]
    last = order.status_history.last()
    assert (last.status, last.note, last.actor) == ("paid", "Transfer arrived on Tuesday.", admin_client.user)
    assert "Back office." not in "".join(order.status_history.values_list("note", flat=True))


@pytest.mark.django_db
def test_shipping_with_tracking_shows_it_to_the_customer_in_the_api_and_the_email(
    admin_client, user, user_client, django_capture_on_commit_callbacks
):
    order = order_placed(user=user, status=Order.Status.PAID)
    mail.outbox.clear()

    page = admin_client.get(f"{CHANGELIST}{order.pk}/move/")
    assert page.status_code == 200
    assert [value for value, _ in page.context["form"].fields["status"].choices] == ["shipped", "cancelled"]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{CHANGELIST}{order.pk}/move/",
            {
                "status": "shipped",
                "note": "Left the warehouse at 4 pm.",
                "carrier": "Royal Mail",
                "tracking_number": "RM123456789GB",
                "tracking_url": "https://track.example/RM123456789GB",
            },
        )
    assert response.status_code == 302 and response["Location"].endswith(f"/admin/orders/order/{order.pk}/change/")

    body = user_client.get(f"/api/v1/orders/{order.pk}").json()
    assert body["status"] == "shipped"
    assert (body["carrier"], body["tracking_number"], body["tracking_url"]) == (
        "Royal Mail",
        "RM123456789GB",
        "https://track.example/RM123456789GB",
    )
    assert body["status_history"][-1]["note"] == "Left the warehouse at 4 pm."
    [email] = mail.outbox
    assert email.subject == f"Your Bookstore order {order.number} is shipped"
    assert "Carrier: Royal Mail" in email.body and "Tracking number: RM123456789GB" in email.body
    assert "https://track.example/RM123456789GB" in email.body


@pytest.mark.django_db
def test_the_move_form_refuses_tracking_without_shipping_and_an_illegal_move(admin_client, user):
    order = order_placed(user=user)  # pending

    with_tracking = admin_client.post(f"{CHANGELIST}{order.pk}/move/", {"status": "paid", "tracking_number": "X1"})
    assert with_tracking.status_code == 400
    assert "belong to shipping" in with_tracking.content.decode()

    illegal = admin_client.post(f"{CHANGELIST}{order.pk}/move/", {"status": "delivered"})
    assert illegal.status_code == 400
    order.refresh_from_db()
    assert order.status == "pending" and order.status_history.count() == 1


@pytest.mark.django_db
def test_an_order_without_tracking_still_ships_through_the_api(staff_client, user):
    order = order_placed(user=user, status=Order.Status.PAID)
    body = staff_client.patch(f"/api/v1/orders/{order.pk}", {"status": "shipped"}, format="json").json()
    assert (body["status"], body["tracking_number"], body["carrier"]) == ("shipped", "", "")


@pytest.mark.django_db
def test_the_packing_slip_is_a_pdf(admin_client, user):
    order = order_placed(user=user, lines=[(BookFactory(title="Éloge de l'ombre", stock=4), 2)])
    response = admin_client.get(f"{CHANGELIST}{order.pk}/packing-slip.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f"packing-slip-{order.number}.pdf" in response["Content-Disposition"]


@pytest.mark.django_db
def test_invoices_are_numbered_once_per_order_in_order_of_issue(admin_client, user):
    first = order_placed(user=user, status=Order.Status.PAID)
    second = order_placed(user=user, status=Order.Status.DELIVERED)

    one = admin_client.get(f"{CHANGELIST}{second.pk}/invoice.pdf")
    two = admin_client.get(f"{CHANGELIST}{first.pk}/invoice.pdf")
    again = admin_client.get(f"{CHANGELIST}{second.pk}/invoice.pdf")

    for response in (one, two, again):
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert "invoice-INV-000001.pdf" in one["Content-Disposition"]
    assert "invoice-INV-000002.pdf" in two["Content-Disposition"]
    assert "invoice-INV-000001.pdf" in again["Content-Disposition"]  # the same invoice, not a new number
    assert dict(Invoice.objects.values_list("order_id", "number")) == {second.pk: 1, first.pk: 2}


@pytest.mark.django_db
def test_an_unpaid_order_gets_no_invoice_and_uses_no_number(admin_client, user):
    pending = order_placed(user=user)
    response = admin_client.get(f"{CHANGELIST}{pending.pk}/invoice.pdf", follow=True)
    assert "only paid orders do" in " ".join(str(m) for m in response.context["messages"])
    assert not Invoice.objects.exists()
    paid = order_placed(user=user, status=Order.Status.PAID)
    assert services.invoice_issue(order=paid).number == 1


@pytest.mark.django_db
def test_a_failure_after_allotting_a_number_gives_it_back(user):
    paid = order_placed(user=user, status=Order.Status.PAID)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.invoice_issue(order=paid)
        raise RuntimeError("the PDF could not be stored")
    assert not Invoice.objects.exists()
    assert services.invoice_issue(order=paid).number == 1


@pytest.mark.django_db
def test_csv_export_has_exactly_the_filtered_orders(admin_client, user, other_user):
    london = order_to(user, name="Ada Lovelace", city="London", status=Order.Status.PAID)
    order_to(other_user, name="Grace Hopper", city="Arlington", status=Order.Status.PAID)
    order_to(user, name="Ada Lovelace", city="London")  # pending

    page = admin_client.get(CHANGELIST, {"status__exact": "paid", "q": "london"})
    export_url = page.context["export_url"]
    assert "status__exact=paid" in export_url and "q=london" in export_url

    rows = csv_rows(admin_client.get(export_url))
    assert [row["number"] for row in rows] == [london.number]
    row = rows[0]
    assert (row["status"], row["customer"], row["city"], row["total"], row["payment_status"]) == (
        "paid",
        "Ada Lovelace",
        "London",
        str(london.total),
        "unpaid",
    )

    everything = csv_rows(admin_client.get("/admin/orders/order/export/"))
    assert len(everything) == 3


@pytest.mark.django_db
def test_the_desk_is_for_staff_only(client, user):
    order = order_placed(user=user, status=Order.Status.PAID)
    client.force_login(user)
    for url in ("export/", f"{order.pk}/packing-slip.pdf", f"{order.pk}/invoice.pdf", f"{order.pk}/move/"):
        response = client.get(f"{CHANGELIST}{url}")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


@pytest.mark.django_db
def test_staff_who_may_only_view_orders_cannot_move_them(client, user):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    order = order_placed(user=user, status=Order.Status.PAID)
    client.force_login(viewer)
    assert client.get(f"{CHANGELIST}{order.pk}/packing-slip.pdf").status_code == 200
    assert client.post(f"{CHANGELIST}{order.pk}/move/", {"status": "shipped"}).status_code == 403
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_invoices_issued_at_once_get_consecutive_numbers_without_gaps_or_duplicates():
    buyer = UserFactory()
    orders = [order_placed(user=buyer, status=Order.Status.PAID) for _ in range(8)]

    invoices = run_together([lambda order=order: services.invoice_issue(order=order) for order in orders])

    assert sorted(invoice.number for invoice in invoices) == list(range(1, 9))
    assert InvoiceCounter.objects.get(name="invoice").last_number == 8
    assert Invoice.objects.count() == 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_order_issued_at_once_by_several_staff_gets_one_invoice():
    order = order_placed(user=UserFactory(), status=Order.Status.PAID)

    invoices = run_together([lambda: services.invoice_issue(order=order) for _ in range(5)])

    assert {invoice.number for invoice in invoices} == {1}
    assert Invoice.objects.count() == 1
