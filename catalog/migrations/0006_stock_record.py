"""Stock moves out of the book row into `catalog_stock` (one narrow row per book, issue 15).

A sale then rewrites a row with one index (its primary key) instead of the book row and its
sixteen indexes (two GIN): with a fillfactor of 50 the new row version fits on its page, so the
update is HOT. `Book.in_stock` keeps the `in_stock` filter on the book table's index; it flips
only when the quantity crosses zero.
"""

import django.db.models.deletion
from django.db import migrations, models

FILLFACTOR = 50


def stock_rows_fill(apps, schema_editor):
    # Portable SQL (SQLite in development, PostgreSQL elsewhere); every existing book gets its row.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("INSERT INTO catalog_stock (book_id, quantity) SELECT id, stock FROM catalog_book")
        cursor.execute("UPDATE catalog_book SET in_stock = (stock > 0)")


def stock_rows_empty(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_book SET stock = COALESCE("
            "(SELECT quantity FROM catalog_stock WHERE catalog_stock.book_id = catalog_book.id), 0)"
        )


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE catalog_stock SET (fillfactor = {FILLFACTOR})")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_search_matching"),
    ]

    operations = [
        migrations.CreateModel(
            name="Stock",
            fields=[
                (
                    "book",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="stock_record",
                        serialize=False,
                        to="catalog.book",
                    ),
                ),
                (
                    "quantity",
                    models.IntegerField(default=0, help_text="Change it through catalog.stock.stock_apply only."),
                ),
            ],
            options={
                "db_table": "catalog_stock",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("quantity__gte", 0)), name="catalog_stock_quantity_not_negative"
                    )
                ],
            },
        ),
        migrations.RunPython(fillfactor_set, migrations.RunPython.noop, elidable=False),
        migrations.AddField(
            model_name="book",
            name="in_stock",
            field=models.BooleanField(
                default=False, editable=False, help_text="Stock above zero; set by the stock ledger (catalog.stock)."
            ),
        ),
        migrations.RunPython(stock_rows_fill, stock_rows_empty),
        migrations.RemoveIndex(model_name="book", name="catalog_book_stock_idx"),
        migrations.RemoveConstraint(model_name="book", name="catalog_book_stock_not_negative"),
        migrations.RemoveField(model_name="book", name="stock"),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["in_stock"], name="catalog_book_in_stock_idx"),
        ),
    ]
