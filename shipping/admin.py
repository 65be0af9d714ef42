"""Shipping methods with the countries they serve, and tax rates: staff keep them here."""

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from shipping.models import ShippingMethod, ShippingMethodCountry, TaxRate


class ShippingMethodCountryInline(TabularInline):
    model = ShippingMethodCountry
    extra = 3


@admin.register(ShippingMethod)
class ShippingMethodAdmin(ModelAdmin):
    list_display = ["code", "name", "price", "free_over", "min_days", "max_days", "everywhere", "served", "is_active"]
    list_filter = ["is_active", "everywhere"]
    search_fields = ["code", "name"]
    inlines = [ShippingMethodCountryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("countries")

    @admin.display(description="countries")
    def served(self, method: ShippingMethod) -> str:
        if method.everywhere:
            return "everywhere"
        return " ".join(country.country for country in method.countries.all()) or "none"


@admin.register(TaxRate)
class TaxRateAdmin(ModelAdmin):
    list_display = ["country", "kind", "rate"]
    list_editable = ["rate"]
    list_filter = ["kind", "country"]
    search_fields = ["country"]
