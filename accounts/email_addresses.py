"""One mailbox, one spelling: the form in which an email address is stored, compared and looked up.

`email_normalize` turns the ways of writing one address into one string: Unicode NFKC
(fullwidth `ｈｂ` is `hb`), the domain in IDNA ASCII form (`bücher.example` is
`xn--bcher-kva.example`), a quoted local part that is a plain atom unquoted (`"alice"` is
`alice`), all lower case. Characters that do not show (zero-width, format, control, private
use, unassigned: Unicode categories Cf, Cc, Co, Cn, Cs, plus the other default-ignorable
code points) are refused rather than dropped: an address that needs them is not one a person
can type back. Register, login and password reset all go through it, and the stored form is
its result.
"""

import logging
import re
import unicodedata

import idna
from django.db import IntegrityError, transaction

logger = logging.getLogger(__name__)

# Default-ignorable code points that are not in category Cf (combining grapheme joiner,
# Hangul fillers, Khmer inherent vowels, Mongolian and other variation selectors).
_IGNORABLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]")
_INVISIBLE_CATEGORIES = {"Cf", "Cc", "Co", "Cn", "Cs", "Zl", "Zp"}
# RFC 5322 dot-atom (ASCII); a quoted local part whose content matches it means the same mailbox unquoted.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


class EmailAddressError(ValueError):
    """An address that cannot be normalised; `str()` says why, for people."""


def email_normalize(value: str) -> str:
    """The stored form of an address; raises `EmailAddressError` for one that cannot be stored."""
    value = value.strip()
    if any(unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in value) or _IGNORABLE.search(value):
        raise EmailAddressError("Enter an email address without invisible characters.")
    value = unicodedata.normalize("NFKC", value)
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise EmailAddressError("Enter a valid email address.")
    return f"{_local_part(local)}@{_domain(domain)}".lower()


def _local_part(local: str) -> str:
    if len(local) >= 2 and local[0] == local[-1] == '"':
        unquoted = re.sub(r"\\(.)", r"\1", local[1:-1])
        if not _DOT_ATOM.match(unquoted):
            raise EmailAddressError("Quoted email addresses are not accepted.")
        return unquoted
    return local


def _domain(domain: str) -> str:
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise EmailAddressError("Enter a valid email address.") from None


def email_normalize_lenient(value: str | None) -> str:
    """For lookups only: the normalised form, or else the input lower-cased (which then matches nothing)."""
    try:
        return email_normalize(value or "")
    except EmailAddressError:
        return (value or "").strip().lower()


def emails_normalize_existing(user_model) -> list[str]:
    """Rewrites stored addresses into their normalised form (the data migration); returns the problems found.

    A row whose address cannot be normalised, or whose normalised form another row has or
    would have, is left as it is and reported (logged, and returned) for a person to settle.
    """
    rows = list(user_model._base_manager.order_by("pk").values_list("pk", "email"))
    current = {email.lower(): pk for pk, email in rows}
    wanted: dict[str, list[int]] = {}
    problems: list[str] = []
    for pk, email in rows:
        try:
            normal = email_normalize(email)
        except EmailAddressError as error:
            problems.append(f"user {pk}: {email!r} cannot be normalised ({error}); left unchanged")
            continue
        if normal != email:
            wanted.setdefault(normal, []).append(pk)
    for normal, pks in wanted.items():
        holder = current.get(normal)
        if len(pks) > 1 or (holder is not None and holder not in pks):
            others = sorted(set(pks) | ({holder} if holder is not None else set()))
            problems.append(f"users {others} are one mailbox, {normal!r}; left unchanged")
            continue
        try:
            with transaction.atomic():
                user_model._base_manager.filter(pk=pks[0]).update(email=normal)
        except IntegrityError:
            problems.append(f"user {pks[0]}: {normal!r} is taken; left unchanged")
    for problem in problems:
        logger.warning("email normalisation: %s", problem)
    return problems
