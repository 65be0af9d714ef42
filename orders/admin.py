"""The orders desk. Every status move goes through `orders.services` (or `payments.services`, which
payments' subclass of this admin calls), exactly as in the API, with the note the staff member types.

- search by order number, email, customer name (the shipping name or the account's) and city;
  filters by status, shipping method and the day the order was placed (payments adds money's);
- a move form per order (the next statuses it may take, a note, and the parcel's carrier,
  tracking number and link when shipping); the bulk actions take the note typed beside them;
- the packing slip and the invoice as PDF (an invoice is numbered when first issued);
- the filtered orders as CSV, exactly what the changelist shows with its search and filters.
"""

import csv
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.forms import ActionForm

from backoffice.stats import day_start
from bookstore.admin_mixins import ReadOnlyTabularInline
from bookstore.exceptions import DomainError
from orders import documents, services
from orders.models import Order, OrderLine, OrderStatusChange

STATUS_LABELS = {
    Order.Status.PENDING: "warning",
    Order.Status.PAID: "info",
    Order.Status.SHIPPED: "primary",
    Order.Status.DELIVERED: "success",
    Order.Status.CANCELLED: "danger",
}
NOTE_HELP = "Recorded in the order's history and sent to the customer with the status email."


class OrderLineInline(ReadOnlyTabularInline):
    model = OrderLine
    fields = ("book", "title", "isbn", "unit_price", "quantity", "line_total")
    readonly_fields = fields


class OrderStatusChangeInline(ReadOnlyTabularInline):
    model = OrderStatusChange
    fields = ("status", "at", "actor", "note")
    readonly_fields = fields
    verbose_name_plural = "status history"


class PlacedFilter(admin.SimpleListFilter):
    """When the order was placed, in the shop's time zone."""

    title = "placed"
    parameter_name = "placed"

    def lookups(self, request, model_admin):
        return [("today", "Today"), ("week", "This week"), ("month", "This month"), ("30d", "Last 30 days")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        starts = {
            "today": today,
            "week": today - timedelta(days=today.weekday()),
            "month": today.replace(day=1),
            "30d": today - timedelta(days=29),
        }
        value = self.value()
        if value in starts:
            return queryset.filter(created_at__gte=day_start(starts[value]))
        return queryset


class ShippingMethodFilter(admin.SimpleListFilter):
    title = "shipping method"
    parameter_name = "shipping_method"

    def lookups(self, request, model_admin):
        from shipping.models import ShippingMethod

        return list(ShippingMethod.objects.order_by("code").values_list("code", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(shipping_method_code=self.value())
        return queryset


class OrderActionForm(ActionForm):
    note = forms.CharField(required=False, max_length=500, label="Note", help_text=NOTE_HELP)


class MoveForm(forms.Form):
    """One status move of one order: the statuses it may go to next, the staff's note, the parcel."""

    status = forms.ChoiceField(label="New status")
    note = forms.CharField(
        required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}), help_text=NOTE_HELP
    )
    carrier = forms.CharField(required=False, max_length=64, help_text="When shipping: e.g. Royal Mail, DHL, UPS.")
    tracking_number = forms.CharField(required=False, max_length=64, help_text="When shipping.")
    tracking_url = forms.URLField(
        required=False, assume_scheme="https", max_length=500, help_text="When shipping: where the customer follows it."
    )

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = sorted(Order.TRANSITIONS[Order.Status(order.status)], key=list(Order.Status).index)
        cast(forms.ChoiceField, self.fields["status"]).choices = [(status.value, status.label) for status in allowed]

    def clean(self):
        data = cast("dict[str, Any]", super().clean())  # Form.clean returns cleaned_data; the stubs allow None
        parcel = [data.get(name) for name in ("carrier", "tracking_number", "tracking_url")]
        if any(parcel) and data.get("status") != Order.Status.SHIPPED:
            raise forms.ValidationError(
                "A carrier and tracking belong to shipping: choose “Shipped”, or leave them empty."
            )
        return data


@admin.register(Order)
class OrderAdmin(ModelAdmin):
    list_display = ["number", "placed", "customer", "shipping_city", "status_label", "total", "shipping_method_name"]
    list_filter = ["status", ShippingMethodFilter, PlacedFilter]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    search_fields = [
        "number",
        "email",
        "user__email",
        "shipping_full_name",
        "user__first_name",
        "user__last_name",
        "shipping_city",
        "tracking_number",
    ]
    ordering = ["-created_at", "-id"]
    inlines = [OrderLineInline, OrderStatusChangeInline]
    actions = ["mark_paid", "mark_shipped", "mark_delivered", "cancel_orders"]
    action_form = OrderActionForm
    change_list_template = "admin/orders/order/desk_change_list.html"
    change_form_template = "admin/orders/order/desk_change_form.html"
    fieldsets = [
        (None, {"fields": ["number", "user", "email", "status", "created_at", "updated_at"]}),
        ("Money", {"fields": ["subtotal", "shipping_cost", "tax_total", "total", "currency"]}),
        (
            "Shipping",
            {
                "fields": [
                    "shipping_method_name",
                    "shipping_full_name",
                    "shipping_line1",
                    "shipping_line2",
                    "shipping_city",
                    "shipping_region",
                    "shipping_postal_code",
                    "shipping_country",
                    "shipping_phone",
                    "carrier",
                    "tracking_number",
                    "tracking_url",
                ]
            },
        ),
    ]

    @display(description="placed", ordering="created_at")
    def placed(self, order: Order):
        return timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M")

    @display(description="customer", ordering="shipping_full_name", header=True)
    def customer(self, order: Order):
        return order.shipping_full_name, order.email or (order.user.email if order.user is not None else "")

    @display(description="status", ordering="status", label=STATUS_LABELS)
    def status_label(self, order: Order):
        return order.status

    def get_readonly_fields(self, request, obj=None):
        # An order is a record: statuses move through the move form and the actions, never by editing.
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        """Nothing on the page is edited in place: statuses move through the actions (orders.services)."""

    def has_delete_permission(self, request, obj=None):
        return False

    # Status moves: the one place this admin writes, always through a service.

    def set_status(self, *, order: Order, status: str, actor, note: str) -> Order:
        return services.order_set_status(order=order, status=status, actor=actor, note=note)

    def ship(self, *, order: Order, actor, note: str, carrier: str, tracking_number: str, tracking_url: str) -> Order:
        return services.order_ship(
            order=order,
            actor=actor,
            note=note,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
        )

    def _move(self, request, queryset, status: str) -> None:
        note = request.POST.get("note", "").strip()[:500]
        moved = 0
        for order in queryset.order_by("pk"):
            try:
                self.set_status(order=order, status=status, actor=request.user, note=note)
            except DomainError as error:
                self.message_user(request, f"{order.number}: {error.detail}", messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(request, f"{moved} order(s) now {status}.", messages.SUCCESS)

    @admin.action(description="Mark selected orders as paid", permissions=["change"])
    def mark_paid(self, request, queryset):
        self._move(request, queryset, Order.Status.PAID)

    @admin.action(description="Mark selected orders as shipped", permissions=["change"])
    def mark_shipped(self, request, queryset):
        self._move(request, queryset, Order.Status.SHIPPED)

    @admin.action(description="Mark selected orders as delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        self._move(request, queryset, Order.Status.DELIVERED)

    @admin.action(description="Cancel selected orders (puts stock back)", permissions=["change"])
    def cancel_orders(self, request, queryset):
        self._move(request, queryset, Order.Status.CANCELLED)

    # The desk's own pages.

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="orders_order_export"),
            path("<int:order_id>/move/", view(self.move_view), name="orders_order_move"),
            path("<int:order_id>/packing-slip.pdf", view(self.packing_slip_view), name="orders_order_packing_slip"),
            path("<int:order_id>/invoice.pdf", view(self.invoice_view), name="orders_order_invoice"),
            *super().get_urls(),
        ]

    def _order(self, request, order_id: int, *, change: bool = False) -> Order:
        allowed = self.has_change_permission(request) if change else self.has_view_permission(request)
        if not allowed:
            raise PermissionDenied
        return get_object_or_404(Order.objects.select_related("user"), pk=order_id)

    def move_view(self, request, order_id: int):
        order = self._order(request, order_id, change=True)
        form = MoveForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["status"] == Order.Status.SHIPPED:
                    self.ship(
                        order=order,
                        actor=request.user,
                        note=data["note"].strip(),
                        carrier=data["carrier"],
                        tracking_number=data["tracking_number"],
                        tracking_url=data["tracking_url"],
                    )
                else:
                    self.set_status(order=order, status=data["status"], actor=request.user, note=data["note"].strip())
            except DomainError as error:
                form.add_error(None, error.detail)
            else:
                self.message_user(request, f"{order.number} is now {data['status']}.", messages.SUCCESS)
                return redirect("admin:orders_order_change", order.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Move order {order.number}",
            # unfold's header crumbs: Orders › Orders › the order › the template's content_title
            # (from `object`; with `opts` they would stop at "Orders › Orders")
            "object": order,
            "order": order,
            "form": form,
            "final": not Order.TRANSITIONS[Order.Status(order.status)],
        }
        return TemplateResponse(request, "admin/orders/order/move.html", context, status=400 if form.errors else 200)

    def packing_slip_view(self, request, order_id: int):
        order = self._order(request, order_id)
        return _pdf(documents.packing_slip_pdf(order), f"packing-slip-{order.number}.pdf")

    def invoice_view(self, request, order_id: int):
        """The order's invoice: issued (and numbered) the first time someone opens it, the same one after."""
        order = self._order(request, order_id)
        try:
            invoice = services.invoice_issue(order=order, actor=request.user)
        except DomainError as error:
            self.message_user(request, f"{order.number}: {error.detail}", messages.ERROR)
            return redirect("admin:orders_order_change", order.pk)
        return _pdf(documents.invoice_pdf(invoice), f"invoice-{invoice.display_number}.pdf")

    def export_view(self, request):
        """The changelist's orders, with its search, filters and ordering, as CSV (every page, not only the first)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        orders = changelist.get_queryset(request).select_related("user", *self.export_related)
        writer = csv.writer(_Echo())
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")

        def rows():
            yield writer.writerow(self.export_header())
            for order in orders.iterator(chunk_size=500):
                yield writer.writerow(self.export_row(order))

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
        return response

    export_related: tuple[str, ...] = ()

    def export_header(self) -> list[str]:
        return [
            "number",
            "placed_at",
            "status",
            "email",
            "customer",
            "city",
            "country",
            "shipping_method",
            "subtotal",
            "shipping_cost",
            "tax_total",
            "total",
            "currency",
            "carrier",
            "tracking_number",
        ]

    def export_row(self, order: Order) -> list:
        return [
            order.number,
            timezone.localtime(order.created_at).isoformat(timespec="seconds"),
            order.status,
            order.email or (order.user.email if order.user is not None else ""),
            order.shipping_full_name,
            order.shipping_city,
            order.shipping_country,
            order.shipping_method_code,
            order.subtotal,
            order.shipping_cost,
            order.tax_total,
            order.total,
            order.currency,
            order.carrier,
            order.tracking_number,
        ]

    def changelist_view(self, request, extra_context=None):
        query = request.GET.copy()
        for key in ("p", "e", "_changelist_filters"):
            query.pop(key, None)
        extra_context = {
            **(extra_context or {}),
            "export_url": f"{reverse('admin:orders_order_export')}?{query.urlencode()}",
        }
        return super().changelist_view(request, extra_context)


class _Echo:
    """A file whose write returns what it was given: csv.writer then yields lines for streaming."""

    def write(self, value):
        return value


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
