"""Who may do what in the catalog."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsStaffOrReadOnly(BasePermission):
    """Anyone reads; only staff write."""

    anonymous_reads = True  # the schema makes the token optional on reads (bookstore.openapi)

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_staff)


class IsReviewAuthorOrStaff(BasePermission):
    """Anyone reads a review; its author or staff change or delete it; posting needs a login."""

    anonymous_reads = True

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return obj.user_id == request.user.pk or request.user.is_staff
