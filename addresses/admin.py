from django.contrib import admin
from unfold.admin import ModelAdmin

from addresses.models import Address


@admin.register(Address)
class AddressAdmin(ModelAdmin):
    list_display = ["user", "label", "full_name", "city", "country", "is_default"]
    list_select_related = ["user"]
    search_fields = ["user__email", "full_name", "postal_code"]
    raw_id_fields = ["user"]
