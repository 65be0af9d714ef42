"""A customer's page in the back office: their saved addresses and their orders, read-only."""

from django.contrib import admin

from addresses.models import Address
from bookstore.admin_mixins import ReadOnlyAdminMixin, ReadOnlyTabularInline
from customers.models import Customer
from orders.models import Order


class AddressInline(ReadOnlyTabularInline):
    model = Address
    fields = ("label", "full_name", "line1", "city", "postal_code", "country", "is_default")
    readonly_fields = fields


class OrderInline(ReadOnlyTabularInline):
    model = Order
    fk_name = "user"
    fields = ("number", "status", "total", "currency", "shipping_method_name", "created_at")
    readonly_fields = fields
    show_change_link = True
    ordering = ["-created_at"]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["email", "first_name", "last_name", "is_active", "is_email_verified", "date_joined"]
    list_filter = ["is_active", "is_email_verified"]
    search_fields = ["email", "first_name", "last_name"]
    fields = ("email", "first_name", "last_name", "is_active", "is_email_verified", "date_joined")
    readonly_fields = fields
    inlines = [AddressInline, OrderInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_staff=False)
