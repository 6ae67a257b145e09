"""User-facing errors: one line that names the bad value and the fix."""


class SweeperError(Exception):
    """Bad input or an impossible request; the CLI prints ``str(err)`` as one line."""


class InputError(SweeperError, ValueError):
    """A file, value or option the user gave cannot be used."""
