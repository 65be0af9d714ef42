"""manage.py import_books FILE.csv — create or update books by ISBN from a CSV file."""

import contextlib
import csv
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from rest_framework import serializers

from catalog.importing import (
    AUTHOR_SEPARATOR,
    CATEGORY_SEPARATOR,
    REQUIRED_COLUMNS,
    BookImporter,
    BookImportRowSerializer,
    clean_row,
)

HELP = f"""Create or update books by ISBN from a UTF-8 CSV file with a header row.

Columns (only isbn, title and price are required; unknown columns are ignored):
  isbn            ISBN-13 or ISBN-10 (stored as ISBN-13; hyphens and spaces ignored)
  title           up to 300 characters
  subtitle        optional
  authors         names separated by "{AUTHOR_SEPARATOR}"; missing authors are created
  category        a path such as "Fiction{CATEGORY_SEPARATOR}Fantasy"; missing categories are created, nested
  publisher       optional
  published_date  YYYY-MM-DD
  language        ISO 639-1 code (en, fr, de, ...), default en
  page_count      positive integer
  format          paperback, hardcover, ebook or audiobook (default paperback)
  price           decimal, 0.01 to 99999.99
  stock           integer >= 0; recorded in the stock ledger (reason "import"); empty keeps the current stock
  description     optional

When the authors or category column is present, it replaces the book's authors or category.
A bad row is reported as "line N: field: error" and skipped; the other rows are imported.
Rows are written in batches (--batch-size), each in its own transaction.
"""


class Progress:
    """A one-line progress bar on stderr (only when it is a terminal, or forced)."""

    def __init__(self, total: int, stream, enabled: bool):
        self.total, self.stream, self.enabled = max(total, 1), stream, enabled
        self.started = time.monotonic()

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / self.total)
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed else 0
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} rows {100 * done // self.total}% "
            f"{rate:,.0f} rows/s"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")
        parser.add_argument("--batch-size", type=int, default=2000, help="Rows written per transaction.")
        parser.add_argument(
            "--progress", choices=["auto", "always", "never"], default="auto", help="Progress bar on stderr."
        )

    def handle(self, *args, file, dry_run, batch_size, progress, **options):
        started = time.monotonic()
        try:
            with open(file, newline="", encoding="utf-8-sig") as handle:
                total = max(sum(1 for _ in handle) - 1, 0)
                handle.seek(0)
                reader = csv.DictReader(handle)
                header = [name.strip() for name in (reader.fieldnames or [])]
                reader.fieldnames = header
                missing = REQUIRED_COLUMNS - set(header)
                if missing:
                    raise CommandError(f"Missing required column(s): {', '.join(sorted(missing))}.")
                bar = Progress(
                    total, self.stderr._out, progress == "always" or (progress == "auto" and self.stderr.isatty())
                )
                # A dry run writes in one transaction that is rolled back (so database rules are
                # checked too); a real run commits batch by batch.
                with transaction.atomic() if dry_run else contextlib.nullcontext():
                    counts, errors = self._import(reader, header, batch_size, bar)
                    if dry_run:
                        transaction.set_rollback(True)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        except UnicodeDecodeError as error:
            raise CommandError(f"{file} is not UTF-8: {error}") from None

        for line in errors:
            self.stderr.write(line)
        verb = "Would create" if dry_run else "Created"
        self.stdout.write(
            f"{verb} {counts['created']} and {'would update' if dry_run else 'updated'} {counts['updated']} book(s), "
            f"{counts['stock_changes']} stock change(s); {counts['failed']} row(s) rejected "
            f"in {time.monotonic() - started:.1f}s." + (" Dry run: nothing was written." if dry_run else "")
        )

    def _import(self, reader, header, batch_size, bar):
        importer = BookImporter(has_authors="authors" in header, has_category="category" in header, defer_postings=True)
        validator = BookImportRowSerializer()
        counts = {"created": 0, "updated": 0, "stock_changes": 0, "failed": 0}
        errors: list[str] = []
        seen: dict[str, int] = {}
        batch: list[tuple[int, dict]] = []
        done = 0
        line = 1  # the header

        def flush():
            if not batch:
                return
            try:
                result = importer.write_batch([row for _, row in batch])
            except DatabaseError as error:  # should not happen after validation; keep going
                for number, _ in batch:
                    errors.append(f"line {number}: database error in this batch, row not imported: {error}")
                counts["failed"] += len(batch)
            else:
                counts["created"] += result.created
                counts["updated"] += result.updated
                counts["stock_changes"] += result.stock_changes
            batch.clear()

        for raw in reader:
            start_line, line = line + 1, reader.line_num
            done += 1
            try:
                row = clean_row(raw, validator)
            except serializers.ValidationError as error:
                counts["failed"] += 1
                errors.extend(self._format_errors(start_line, error.detail))
                continue
            if row["isbn"] in seen:
                counts["failed"] += 1
                errors.append(f"line {start_line}: isbn: same ISBN as line {seen[row['isbn']]}; row skipped.")
                continue
            seen[row["isbn"]] = start_line
            batch.append((start_line, row))
            if len(batch) >= batch_size:
                flush()
                bar.update(done)
        flush()
        importer.finish()  # the new books' search postings, in one pass
        bar.update(done)
        bar.finish()
        return counts, errors

    @staticmethod
    def _format_errors(line: int, detail) -> list[str]:
        if isinstance(detail, dict):
            return [f"line {line}: {name}: {' '.join(str(m) for m in messages)}" for name, messages in detail.items()]
        return [f"line {line}: {' '.join(str(m) for m in detail)}"]
