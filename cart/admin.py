from django.contrib import admin
from unfold.admin import ModelAdmin

from bookstore.admin_mixins import ReadOnlyAdminMixin, ReadOnlyTabularInline
from cart.models import Cart, CartItem


class CartItemInline(ReadOnlyTabularInline):
    model = CartItem
    fields = ("book", "quantity", "updated_at")
    readonly_fields = fields


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Carts are visible to staff, read-only: customers own them."""

    list_display = ["user", "updated_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "created_at", "updated_at"]
    inlines = [CartItemInline]
