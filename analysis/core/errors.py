"""The one exception type that means "the user can fix this".

Everything the engine rejects on purpose raises :class:`UserError` with a message that says what
is wrong, where, and what to do. The CLI turns it into exit code 2 and one line on stderr; pages
show it with ``st.error``. Any other exception is a bug and is reported as such.
"""


class UserError(Exception):
    """Bad input or an impossible request, explained in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
