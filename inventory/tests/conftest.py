from catalogue.tests.conftest import _fresh_throttle_counts, shop  # noqa: F401 - shared fixtures
