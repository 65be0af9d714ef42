"""The back office for money: an order's payment and refunds inline, refunds through a form, filters by
payment status and method. Every change goes through `payments.services`, exactly as in the API.

The orders' admin is replaced here by a subclass (payments sits above orders): its actions record a
manual payment and refund a paid order before cancelling it.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin, StackedInline

from bookstore.admin_mixins import ReadOnlyAdminMixin, ReadOnlyTabularInline
from bookstore.exceptions import DomainError
from orders import admin as orders_admin
from orders.models import Order
from payments import services
from payments.models import Payment, PaymentEvent, Refund


class PaymentInline(ReadOnlyAdminMixin, StackedInline):
    model = Payment
    fields = (
        "method",
        "money",
        "amount",
        "amount_paid",
        "amount_refunded",
        "currency",
        "expires_at",
        "stripe_payment_intent_id",
        "last_error",
        "ledger",
    )
    readonly_fields = fields
    can_delete = False
    extra = 0

    @admin.display(description="Payment status")  # not `status`: the order's own field is that
    def money(self, payment: Payment):
        return payment.get_status_display()

    @admin.display(description="Ledger")
    def ledger(self, payment: Payment):
        return format_html(
            '<a href="{}">{} change(s)</a>',
            reverse("admin:payments_payment_change", args=[payment.pk]),
            payment.events.count(),
        )


class RefundInline(ReadOnlyTabularInline):
    model = Refund
    fields = ("amount", "reason", "lines", "source", "stripe_refund_id", "actor", "created_at")
    readonly_fields = fields


class RefundForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.CharField(max_length=500)


admin.site.unregister(Order)


@admin.register(Order)
class OrderAdmin(orders_admin.OrderAdmin):
    list_display = [*orders_admin.OrderAdmin.list_display, "payment_method", "payment_status"]
    list_filter = ["status", "payment__status", "payment__method", *orders_admin.OrderAdmin.list_filter[1:]]
    list_select_related = ["user", "payment"]
    inlines = [*orders_admin.OrderAdmin.inlines, PaymentInline, RefundInline]
    actions = [*orders_admin.OrderAdmin.actions, "refund_in_full"]
    export_related = ("payment",)

    @admin.display(description="payment", ordering="payment__method")
    def payment_method(self, order: Order):
        return getattr(getattr(order, "payment", None), "method", "—")

    @admin.display(description="money", ordering="payment__status")
    def payment_status(self, order: Order):
        return getattr(getattr(order, "payment", None), "status", "—")

    def set_status(self, *, order: Order, status: str, actor, note: str) -> Order:
        # Paid and cancelled involve the money: payments' services record the payment or refund first.
        return services.order_set_status(order=order, status=status, actor=actor, note=note)

    def export_header(self) -> list[str]:
        return [*super().export_header(), "payment_method", "payment_status", "amount_paid", "amount_refunded"]

    def export_row(self, order: Order) -> list:
        payment = getattr(order, "payment", None)
        money = (
            [payment.method, payment.status, payment.amount_paid, payment.amount_refunded]
            if payment
            else ["", "", "", ""]
        )
        return [*super().export_row(order), *money]

    @admin.action(description="Refund what is left of the selected orders' payments")
    def refund_in_full(self, request, queryset):
        for order in queryset.select_related("payment").order_by("pk"):
            payment = getattr(order, "payment", None)
            if payment is None or payment.refundable <= 0:
                self.message_user(request, f"{order.number}: nothing to refund.", messages.WARNING)
                continue
            try:
                refund = services.refund_create(
                    order=order, actor=request.user, amount=payment.refundable, reason="Refunded in the back office."
                )
            except DomainError as error:
                self.message_user(request, f"{order.number}: {error.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{order.number}: refunded {refund.amount}.", messages.SUCCESS)

    def get_urls(self):
        return [
            path("<int:order_id>/refund/", self.admin_site.admin_view(self.refund_view), name="orders_order_refund"),
            *super().get_urls(),
        ]

    def refund_view(self, request, order_id: int):
        """A form for one refund of any amount up to what is left, through `payments.services.refund_create`."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("payment", "user"), pk=order_id)
        form = RefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                refund = services.refund_create(order=order, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.detail)
            else:
                self.message_user(request, f"{order.number}: refunded {refund.amount}.", messages.SUCCESS)
                return redirect("admin:orders_order_change", order.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund order {order.number}",
            "order": order,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/payments/refund.html", context)


class PaymentEventInline(ReadOnlyTabularInline):
    model = PaymentEvent
    fields = ("created_at", "kind", "amount", "status_after", "actor", "stripe_event_id", "note")
    readonly_fields = fields
    verbose_name_plural = "ledger"


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["order", "method", "status", "amount", "amount_paid", "amount_refunded", "currency", "created_at"]
    list_filter = ["method", "status"]
    list_select_related = ["order"]
    search_fields = ["order__number", "stripe_payment_intent_id"]
    inlines = [PaymentEventInline]
    fields = (
        "order",
        "method",
        "status",
        "amount",
        "amount_paid",
        "amount_refunded",
        "currency",
        "expires_at",
        "stripe_payment_intent_id",
        "last_error",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
