"""Fixtures the integration tests share."""

from tests.hosts import guest  # noqa: F401 - a fixture: a guest node of one test
