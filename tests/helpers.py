"""Kept so that imports written against ``tests.helpers`` work: the shared helpers are in
``tests.fixtures`` (``http``, ``clients``, ``database``)."""

from tests.fixtures.clients import client_body as client_body
from tests.fixtures.clients import create_client as create_client
from tests.fixtures.clients import register_on_server as register_on_server
from tests.fixtures.database import counting_statements as counting_statements
from tests.fixtures.database import run_sql as run_sql
from tests.fixtures.http import PROBLEM_KEYS as PROBLEM_KEYS
from tests.fixtures.http import assert_problem as assert_problem
