import pytest

# The shared helpers assert as they go: rewrite their asserts as pytest does a test's.
pytest.register_assert_rewrite("tests.fixtures")
