"""An order's printed documents, as PDF: the packing slip that goes in the parcel, and the invoice.

ReportLab draws them (pure Python from PyPI, no system libraries to install). DejaVu Sans is used
when Debian's fonts-dejavu-core is there, for any accented title; otherwise the PDF's own Helvetica.
"""

from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from orders.models import Invoice, Order

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def _fonts() -> tuple[str, str]:
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if regular.is_file() and bold.is_file():
        if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
        return "DejaVuSans", "DejaVuSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def _styles():
    regular, bold = _fonts()
    sheet = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=sheet["Title"], fontName=bold, fontSize=18, alignment=0, spaceAfter=4),
        "body": ParagraphStyle("body", parent=sheet["BodyText"], fontName=regular, fontSize=9.5, leading=13),
        "small": ParagraphStyle("small", parent=sheet["BodyText"], fontName=regular, fontSize=8, leading=10),
        "bold": ParagraphStyle("bold", parent=sheet["BodyText"], fontName=bold, fontSize=9.5, leading=13),
        "fonts": (regular, bold),
    }


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _address(order: Order) -> str:
    lines = [
        order.shipping_full_name,
        order.shipping_line1,
        order.shipping_line2,
        " ".join(filter(None, [order.shipping_postal_code, order.shipping_city])),
        order.shipping_region,
        order.shipping_country,
        order.shipping_phone,
    ]
    return "<br/>".join(_escape(line) for line in lines if line)


def _seller() -> str:
    lines = [settings.SHOP_NAME, *settings.SHOP_ADDRESS.split("\n")]
    if settings.SHOP_TAX_NUMBER:
        lines.append(f"Tax number: {settings.SHOP_TAX_NUMBER}")
    return "<br/>".join(_escape(line.strip()) for line in lines if line.strip())


def _table(rows, widths, fonts, *, money_columns=(), total_rows=0) -> Table:
    regular, bold = fonts
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, 0), bold),
        ("FONTNAME", (0, 1), (-1, -1), regular),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
    ]
    for column in money_columns:
        style.append(("ALIGN", (column, 0), (column, -1), "RIGHT"))
    if total_rows:
        style += [
            ("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.5, colors.grey),
            ("FONTNAME", (0, -1), (-1, -1), bold),
        ]
    table.setStyle(TableStyle(style))
    return table


def _build(story, title: str) -> bytes:
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=settings.SHOP_NAME,
    )
    document.build(story)
    return buffer.getvalue()


def _heading(styles, title: str, facts: list[tuple[str, str]], right: str):
    facts_text = "<br/>".join(f"<b>{_escape(label)}</b> {_escape(value)}" for label, value in facts)
    header = Table(
        [
            [Paragraph(_escape(title), styles["title"]), Paragraph(_seller(), styles["small"])],
            [Paragraph(facts_text, styles["body"]), Paragraph(right, styles["body"])],
        ],
        colWidths=[100 * mm, 74 * mm],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return header


def packing_slip_pdf(order: Order) -> bytes:
    """What goes in the parcel: the address, and each book with its ISBN and quantity (no prices)."""
    styles = _styles()
    lines = list(order.items.all())
    facts = [
        ("Order", order.number),
        ("Placed", timezone.localtime(order.created_at).strftime("%d %B %Y")),
        ("Shipping", order.shipping_method_name),
    ]
    if order.tracking_number:
        facts.append(("Tracking", " ".join(filter(None, [order.carrier, order.tracking_number]))))
    rows = [["Qty", "Title", "ISBN", "Packed"]]
    rows += [
        [
            str(line.quantity),
            Paragraph(_escape(line.title), styles["body"]),
            line.isbn,
            "☐" if styles["fonts"][0] == "DejaVuSans" else "[ ]",
        ]
        for line in lines
    ]
    rows.append([str(sum(line.quantity for line in lines)), "books in this parcel", "", ""])
    story = [
        _heading(styles, "Packing slip", facts, f"<b>Ship to</b><br/>{_address(order)}"),
        Spacer(1, 8 * mm),
        _table(rows, [14 * mm, 108 * mm, 34 * mm, 18 * mm], styles["fonts"], total_rows=1),
        Spacer(1, 8 * mm),
        Paragraph(
            "Thank you for shopping with us. Questions about this parcel? Reply to your order email.", styles["small"]
        ),
    ]
    return _build(story, f"Packing slip {order.number}")


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice: seller, buyer, each line with its tax, shipping, and totals in the order's currency."""
    order = invoice.order
    styles = _styles()
    currency = order.currency
    lines = list(order.items.all())
    facts = [
        ("Invoice", invoice.display_number),
        ("Date", timezone.localtime(invoice.issued_at).strftime("%d %B %Y")),
        ("Order", order.number),
        ("Customer", order.email or (order.user.email if order.user is not None else "")),
    ]
    rows = [["Title", "ISBN", "Qty", "Unit price", "Tax", "Amount"]]
    for line in lines:
        rows.append(
            [
                Paragraph(_escape(line.title), styles["body"]),
                line.isbn,
                str(line.quantity),
                f"{line.unit_price}",
                f"{(line.tax_rate * 100).normalize():f}%",
                f"{line.line_total}",
            ]
        )
    rows.append(
        [
            f"Shipping: {order.shipping_method_name}",
            "",
            "",
            "",
            f"{(order.shipping_tax_rate * 100).normalize():f}%",
            f"{order.shipping_cost}",
        ]
    )
    rows.append(["Subtotal", "", "", "", "", f"{order.subtotal}"])
    rows.append([f"Tax{' (included)' if order.prices_include_tax else ''}", "", "", "", "", f"{order.tax_total}"])
    rows.append([f"Total ({currency})", "", "", "", "", f"{order.total}"])
    story = [
        _heading(styles, "Invoice", facts, f"<b>Bill to</b><br/>{_address(order)}"),
        Spacer(1, 8 * mm),
        _table(
            rows,
            [70 * mm, 30 * mm, 12 * mm, 22 * mm, 16 * mm, 24 * mm],
            styles["fonts"],
            money_columns=(2, 3, 4, 5),
            total_rows=4,
        ),
        Spacer(1, 8 * mm),
        Paragraph(
            "Prices include tax." if order.prices_include_tax else "Tax is added to the prices shown.", styles["small"]
        ),
    ]
    return _build(story, f"Invoice {invoice.display_number}")
