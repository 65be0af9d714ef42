"""The admin's sidebar: the shop's models grouped the way staff work, the developers' models apart.

Each link shows only to someone allowed to view its model; the Developer group only to superusers
(token blacklists, task results, groups, carts are for debugging, not for running the shop).
"""

from typing import Any

from django.urls import NoReverseMatch, reverse

# (title, icon, app_label, model_name): icons are Material Symbols names, as unfold expects.
GROUPS = [
    (
        "Catalog",
        [
            ("Books", "menu_book", "catalog", "book"),
            ("Authors", "person_edit", "catalog", "author"),
            ("Categories", "category", "catalog", "category"),
            ("Reviews", "reviews", "catalog", "review"),
            ("Stock movements", "inventory_2", "catalog", "stockmovement"),
        ],
    ),
    (
        "Orders & payments",
        [
            ("Orders", "shopping_bag", "orders", "order"),
            ("Payments", "payments", "payments", "payment"),
        ],
    ),
    (
        "Customers",
        [
            ("Customers", "group", "customers", "customer"),
            ("Addresses", "home_pin", "addresses", "address"),
        ],
    ),
    (
        "Shipping & tax",
        [
            ("Shipping methods", "local_shipping", "shipping", "shippingmethod"),
            ("Tax rates", "percent", "shipping", "taxrate"),
        ],
    ),
]
DEVELOPER = [
    ("Users and staff", "badge", "accounts", "user"),
    ("Groups", "groups", "auth", "group"),
    ("Carts", "shopping_cart", "cart", "cart"),
    ("Task results", "task", "django_tasks_db", "dbtaskresult"),
    ("Outstanding tokens", "key", "token_blacklist", "outstandingtoken"),
    ("Blacklisted tokens", "key_off", "token_blacklist", "blacklistedtoken"),
]


def _can_view(app_label: str, model_name: str):
    def check(request) -> bool:
        user = request.user
        return user.has_perm(f"{app_label}.view_{model_name}") or user.has_perm(f"{app_label}.change_{model_name}")

    return check


def _items(entries) -> list[dict]:
    items = []
    for title, icon, app_label, model_name in entries:
        try:
            link = reverse(f"admin:{app_label}_{model_name}_changelist")
        except NoReverseMatch:  # a model another app has not registered (yet)
            continue
        items.append({"title": title, "icon": icon, "link": link, "permission": _can_view(app_label, model_name)})
    return items


def sidebar(request) -> list[dict]:
    """UNFOLD["SIDEBAR"]["navigation"]: built per request, so links follow the URLs actually registered."""
    groups: list[dict[str, Any]] = [
        {
            "title": "Overview",
            "items": [
                {"title": "Dashboard", "icon": "dashboard", "link": reverse("admin:index")},
                *_report_items(),
            ],
        },
        *({"title": title, "separator": True, "items": _items(entries)} for title, entries in GROUPS),
    ]
    if request.user.is_superuser:
        groups.append({"title": "Developer", "separator": True, "collapsible": True, "items": _items(DEVELOPER)})
    return groups


def _report_items() -> list[dict]:
    try:
        return [
            {"title": "Sales report", "icon": "monitoring", "link": reverse("admin:backoffice_sales")},
            {"title": "Bestsellers", "icon": "trophy", "link": reverse("admin:backoffice_bestsellers")},
        ]
    except NoReverseMatch:
        return []
