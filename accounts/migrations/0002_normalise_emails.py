"""Stored addresses into their normalised form (accounts.email_addresses).

Rows that cannot be normalised, or that are one mailbox with another row, are left as they
are and logged (`email normalisation: ...` warnings) for a person to settle; the migration
itself never fails on them. Reversing it changes nothing.
"""

from django.db import migrations


def normalise(apps, schema_editor):
    from accounts.email_addresses import emails_normalize_existing

    for problem in emails_normalize_existing(apps.get_model("accounts", "User")):
        print(f"\n  email normalisation: {problem}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]
