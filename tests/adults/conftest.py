import pytest

from tests.fixtures.callers import Who


@pytest.fixture
def who(adult_who: Who) -> Who:
    """In the adults' tests "manager" is adult social care's and "health" a GP's system."""
    return adult_who
