"""Back-office building blocks shared by the apps' admins."""

from unfold.admin import TabularInline


class ReadOnlyAdminMixin:
    """Staff may look but never add, change or delete (carts customers own, the append-only ledger)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, TabularInline):
    """Rows shown under their parent exactly as recorded (order lines, status history, stock movements)."""

    extra = 0
    can_delete = False
