"""A customer's page in the back office: their saved addresses, orders and reviews, read-only.

A customer with orders is deactivated, never deleted (the orders stay theirs); one without may be
deleted. Both through `customers.services`.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from unfold.admin import ModelAdmin

from addresses.models import Address
from bookstore.admin_mixins import ReadOnlyAdminMixin, ReadOnlyTabularInline
from catalog.models import Review
from customers import services
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


class ReviewInline(ReadOnlyTabularInline):
    model = Review
    fields = ["book", "rating", "title", "status", "created_at"]
    readonly_fields = fields
    show_change_link = True
    ordering = ["-created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("book").defer("book__search_vector", "book__description")


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["email", "first_name", "last_name", "is_active", "is_email_verified", "date_joined"]
    list_filter = ["is_active", "is_email_verified"]
    search_fields = ["email", "first_name", "last_name"]
    fields = ("email", "first_name", "last_name", "is_active", "is_email_verified", "date_joined")
    readonly_fields = fields
    inlines = [AddressInline, OrderInline, ReviewInline]
    actions = ["deactivate_customers", "reactivate_customers"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_staff=False)

    def has_delete_permission(self, request, obj=None):
        # Offered on a customer's page; one with orders is deactivated instead (see delete_view).
        return obj is not None and request.user.has_perm("accounts.delete_user")

    def delete_view(self, request, object_id, extra_context=None):
        customer = self.get_object(request, object_id)
        if customer is not None and services.customer_has_orders(user=customer):
            self.message_user(
                request,
                f"{customer.email} has orders, which stay theirs: the account was not deleted. "
                "Deactivate it instead (the “Deactivate” action): they can no longer sign in.",
                messages.WARNING,
            )
            return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[customer.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.customer_delete(user=obj)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            services.customer_delete(user=customer)

    @admin.action(description="Deactivate selected customers (they can no longer sign in)")
    def deactivate_customers(self, request, queryset):
        count = sum(services.customer_deactivate(user=customer) for customer in queryset.filter(is_active=True))
        self.message_user(request, f"{count} customer(s) deactivated.", messages.SUCCESS)

    @admin.action(description="Reactivate selected customers")
    def reactivate_customers(self, request, queryset):
        count = sum(services.customer_reactivate(user=customer) for customer in queryset.filter(is_active=False))
        self.message_user(request, f"{count} customer(s) reactivated.", messages.SUCCESS)
