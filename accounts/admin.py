from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, ReadOnlyPasswordHashField, UserChangeForm
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm

from accounts.models import User


class PasswordLinkWidget(forms.Widget):
    """Shows no hash at all (not even the masked summary): only a link to set a new password."""

    def render(self, name, value, attrs=None, renderer=None):
        return format_html('<a class="button" href="{}">Set a new password</a>', "../password/")


class UserChangeAdminForm(UserChangeForm):
    password = ReadOnlyPasswordHashField(label="Password", widget=PasswordLinkWidget, help_text="")

    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    """Users by email; the password hash is never shown, only a link to set a new password."""

    form = UserChangeAdminForm
    change_password_form = AdminPasswordChangeForm
    add_form = UserCreationAdminForm
    ordering = ["-date_joined"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "is_email_verified", "date_joined"]
    list_filter = ["is_staff", "is_active", "is_email_verified", "is_superuser"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "is_email_verified")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),)
