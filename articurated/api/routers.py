from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Paths work with and without a trailing slash, with no redirect (API.md)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
