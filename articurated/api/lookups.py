"""The id in a detail path (`/orders/{id}`): a UUID in its canonical, hyphenated form, nothing
else. A malformed id never reaches a view (it would fail in the database lookup as a 500); the
URL does not match, and the catch-all under /api/ answers API.md's 404 NOT_FOUND body. The
router writes the same regex into the OpenAPI document, so clients see exactly what matches."""

UUID_LOOKUP = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
