"""The orders back office. Status moves go through `orders.services`, exactly as in the API."""

from django.contrib import admin, messages

from bookstore.admin_mixins import ReadOnlyTabularInline
from orders import services
from orders.exceptions import InvalidTransitionError
from orders.models import Order, OrderLine, OrderStatusChange


class OrderLineInline(ReadOnlyTabularInline):
    model = OrderLine
    fields = ("book", "title", "isbn", "unit_price", "quantity", "line_total")
    readonly_fields = fields


class OrderStatusChangeInline(ReadOnlyTabularInline):
    model = OrderStatusChange
    fields = ("status", "at", "actor", "note")
    readonly_fields = fields
    verbose_name_plural = "status history"


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "user", "status", "total", "currency", "created_at"]
    list_filter = ["status"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    search_fields = ["number", "user__email"]
    ordering = ["-created_at", "-id"]
    inlines = [OrderLineInline, OrderStatusChangeInline]
    actions = ["mark_paid", "mark_shipped", "mark_delivered", "cancel_orders"]
    fieldsets = [
        (None, {"fields": ["number", "user", "status", "created_at", "updated_at"]}),
        ("Money", {"fields": ["subtotal", "shipping_cost", "total", "currency"]}),
        (
            "Shipping address",
            {
                "fields": [
                    "shipping_full_name",
                    "shipping_line1",
                    "shipping_line2",
                    "shipping_city",
                    "shipping_region",
                    "shipping_postal_code",
                    "shipping_country",
                    "shipping_phone",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        # An order is a record: statuses move through the actions below, never by editing.
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _move(self, request, queryset, status: str) -> None:
        moved = 0
        for order in queryset.order_by("pk"):
            try:
                if status == Order.Status.CANCELLED:
                    services.order_cancel(order=order, actor=request.user, note="Cancelled in the back office.")
                else:
                    services.order_set_status(order=order, status=status, actor=request.user, note="Back office.")
            except InvalidTransitionError as error:
                self.message_user(request, f"{order.number}: {error.detail}", messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(request, f"{moved} order(s) now {status}.", messages.SUCCESS)

    @admin.action(description="Mark selected orders as paid")
    def mark_paid(self, request, queryset):
        self._move(request, queryset, Order.Status.PAID)

    @admin.action(description="Mark selected orders as shipped")
    def mark_shipped(self, request, queryset):
        self._move(request, queryset, Order.Status.SHIPPED)

    @admin.action(description="Mark selected orders as delivered")
    def mark_delivered(self, request, queryset):
        self._move(request, queryset, Order.Status.DELIVERED)

    @admin.action(description="Cancel selected orders (puts stock back)")
    def cancel_orders(self, request, queryset):
        self._move(request, queryset, Order.Status.CANCELLED)
