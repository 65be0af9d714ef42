from bookstore.exceptions import DomainError, NotFoundError


class AddressBookFullError(DomainError):
    code = "address_book_full"

    def __init__(self, *, limit: int):
        super().__init__(f"You can keep at most {limit} addresses; remove one first.", meta={"limit": limit})


class AddressNotFoundError(NotFoundError):
    default_detail = "No such address in your address book."
