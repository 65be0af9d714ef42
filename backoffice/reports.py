"""Reports in the admin: sales per day, week or month, and bestsellers, over a chosen period.

Each is a table and a chart on one page, and the same rows as CSV (`?format=csv`). Staff need
permission to view orders; a bad period is a form error on the page (or a 400 for the CSV), never
a crash.
"""

import csv
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from backoffice import stats

MAX_DAYS = 3 * 366
# Chart.js options (unfold's chart component takes them whole, in place of its own defaults).
CHART_OPTIONS = {"responsive": True, "maintainAspectRatio": False, "animation": False, "maxBarThickness": 28}


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = cast("dict[str, Any]", super().clean())  # Form.clean returns cleaned_data; the stubs allow None
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            raise forms.ValidationError("The start of the period is after its end.")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(f"A report covers at most {MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data


class SalesForm(PeriodForm):
    period = forms.ChoiceField(choices=[("day", "Day"), ("week", "Week"), ("month", "Month")], required=False)

    def clean(self):
        data = super().clean()
        data["period"] = data.get("period") or "day"
        return data


class BestsellersForm(PeriodForm):
    limit = forms.IntegerField(required=False, min_value=1, max_value=100)

    def clean(self):
        data = super().clean()
        data["limit"] = data.get("limit") or 20
        return data


def _check(request) -> None:
    if not request.user.has_perm("orders.view_order"):
        raise PermissionDenied


def _csv(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _page(request, template: str, title: str, form, **context) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": title,
        "form": form,
        "currency": settings.STORE_CURRENCY,
        "query": request.GET.urlencode(),
        **context,
    }
    return TemplateResponse(request, template, context, status=200 if form.is_valid() else 400)


def _period_label(period: str, day) -> str:
    if period == "month":
        return day.strftime("%Y-%m")
    if period == "week":
        return f"week of {day.isoformat()}"
    return day.isoformat()


def _query_value(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _report_form(
    request: Any, form_class: type[forms.Form], template: str, title: str
) -> tuple[Any, HttpResponse | None]:
    """A report's period form bound to the query (an empty query: the defaults), and the answer
    to give instead when it is invalid: a 400 for the CSV, the page with its errors otherwise."""
    form = form_class(request.GET or {})
    if form.is_valid():
        # Shown bound to the period it resolved to, so the inputs hold the dates the report covers
        # (bound to an empty query, a date input shows only its placeholder).
        shown = form_class({name: _query_value(value) for name, value in form.cleaned_data.items()})
        shown.is_valid()
        return shown, None
    if request.GET.get("format") == "csv":
        return form, HttpResponseBadRequest(" ".join(form.non_field_errors()) or "Invalid period.")  # type: ignore[arg-type]  # iterating an ErrorList gives its messages
    return form, _page(request, template, title, form, rows=[])


def sales_view(request):
    _check(request)
    form, refusal = _report_form(request, SalesForm, "backoffice/sales.html", "Sales report")
    if refusal is not None:
        return refusal
    period, start, end = form.cleaned_data["period"], form.cleaned_data["start"], form.cleaned_data["end"]
    rows = stats.sales(period=period, start=start, end=end)
    if request.GET.get("format") == "csv":
        return _csv(
            f"sales-{period}-{start}-{end}.csv",
            ["period", "orders", "revenue", "refunded", "net", "currency"],
            (
                [row.period.isoformat(), row.orders, row.revenue, row.refunded, row.net, settings.STORE_CURRENCY]
                for row in rows
            ),
        )
    chart = {
        "labels": [_period_label(period, row.period) for row in rows],
        "datasets": [
            {
                "label": "Revenue",
                "data": [float(row.revenue) for row in rows],
                "backgroundColor": "var(--color-primary-600)",
            },
            {
                "label": "Refunded",
                "data": [float(row.refunded) for row in rows],
                "backgroundColor": "var(--color-primary-300)",
            },
        ],
    }
    options = {**CHART_OPTIONS, "plugins": {"legend": {"display": True, "position": "top", "align": "end"}}}
    totals: dict[str, int | Decimal] = {
        "orders": sum(row.orders for row in rows),
        "revenue": sum((row.revenue for row in rows), stats.ZERO),
        "refunded": sum((row.refunded for row in rows), stats.ZERO),
    }
    totals["net"] = totals["revenue"] - totals["refunded"]
    labelled = [(_period_label(period, row.period), row) for row in rows]
    return _page(
        request,
        "backoffice/sales.html",
        "Sales report",
        form,
        rows=labelled,
        chart=json.dumps(chart),
        totals=totals,
        chart_options=json.dumps(options),
        start=start,
        end=end,
        period=period,
    )


def bestsellers_view(request):
    _check(request)
    form, refusal = _report_form(request, BestsellersForm, "backoffice/bestsellers.html", "Bestsellers")
    if refusal is not None:
        return refusal
    start, end, limit = form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data["limit"]
    rows = stats.bestsellers(start=start, end=end, limit=limit)
    if request.GET.get("format") == "csv":
        return _csv(
            f"bestsellers-{start}-{end}.csv",
            ["rank", "book_id", "title", "isbn", "copies", "revenue", "currency"],
            (
                [rank, row.book_id, row.title, row.isbn, row.copies, row.revenue, settings.STORE_CURRENCY]
                for rank, row in enumerate(rows, start=1)
            ),
        )
    chart = {
        "labels": [row.title[:30] for row in rows],
        "datasets": [
            {
                "label": "Copies sold",
                "data": [row.copies for row in rows],
                "backgroundColor": "var(--color-primary-600)",
            }
        ],
    }
    options = {**CHART_OPTIONS, "indexAxis": "y", "plugins": {"legend": {"display": False}}}
    return _page(
        request,
        "backoffice/bestsellers.html",
        "Bestsellers",
        form,
        rows=rows,
        chart=json.dumps(chart),
        chart_options=json.dumps(options),
        start=start,
        end=end,
    )
