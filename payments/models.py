"""Payments: what an order owes and what came in and went back, with a ledger of every change.

`payments` sits above `orders` (payments → orders → cart → catalog): it knows orders, orders
never import it. A payment belongs to one order; its state changes only through
`payments.services`, and each change writes a `PaymentEvent` (who or which Stripe event, when).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from orders.models import Order


class Payment(models.Model):
    class Method(models.TextChoices):
        MANUAL = "manual"
        STRIPE = "stripe"

    class Status(models.TextChoices):
        UNPAID = "unpaid"
        PAID = "paid"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="payment")
    method = models.CharField(max_length=10, choices=Method.choices, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNPAID, db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="What the order owes.")
    currency = models.CharField(max_length=3)
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    stripe_payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    client_secret = models.CharField(max_length=255, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # Fixed at checkout from the settings then in force; null: never expires (orders from before payments).
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("amount_paid")), name="payments_payment_refunds_within_paid"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0, amount_paid__gte=0, amount_refunded__gte=0),
                name="payments_payment_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} payment of {self.order_id}: {self.status}"

    # What the order serializer shows: from the view's prefetch, a query, or set by checkout (none yet).
    @cached_property
    def refund_list(self) -> list["Refund"]:
        return list(self.refunds.all())

    @property
    def refundable(self) -> Decimal:
        return self.amount_paid - self.amount_refunded

    def status_from_amounts(self) -> str:
        if self.amount_paid <= 0:
            return self.Status.UNPAID
        if self.amount_refunded <= 0:
            return self.Status.PAID
        if self.amount_refunded < self.amount_paid:
            return self.Status.PARTIALLY_REFUNDED
        return self.Status.REFUNDED


class PaymentEvent(models.Model):
    """An append-only ledger line: one change of a payment, by whom or which Stripe event, and when."""

    class Kind(models.TextChoices):
        CREATED = "created"
        PAID = "paid"
        FAILED = "failed"
        REFUNDED = "refunded"
        CANCELLED = "cancelled"
        MISMATCH = "amount_mismatch"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    status_after = models.CharField(max_length=20, choices=Payment.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stripe_event_id = models.CharField(max_length=255, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.kind} {self.amount}"


class Refund(models.Model):
    """Money given back on an order: by staff (API or admin), in Stripe's dashboard, or for a late payment."""

    class Source(models.TextChoices):
        STAFF = "staff"
        STRIPE_DASHBOARD = "stripe_dashboard"
        CANCELLATION = "cancellation"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")  # the payment's, for the admin
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=500)
    # [{"book_id", "quantity", "restocked"}]: a record of what was returned, as it was at the refund.
    lines = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF)
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=255, blank=True, editable=False)
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_amount_positive"),
            models.UniqueConstraint(
                fields=["payment", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payments_refund_idempotency_key_once_per_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"refund of {self.amount} on {self.payment_id}"


class StripeEvent(models.Model):
    """A Stripe webhook event that took effect: its id is stored once, so a replay changes nothing."""

    event_id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"


# The schema's enum names (bookstore.settings SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
PAYMENT_METHOD_CHOICES = Payment.Method.choices
PAYMENT_STATUS_CHOICES = Payment.Status.choices
