"""Property-based requests from the OpenAPI schema (Schemathesis) against a real server.

Every route, with a valid token of one of two clients: no 5xx, no response that
breaks the schema, nothing of the other client in any answer. ``make test`` runs
a few examples per operation; ``make fuzz`` many more (FUZZ_EXAMPLES).
"""

from __future__ import annotations

import base64
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.conftest import embedded_stack, generate_body, stop

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()  # the webhook configured: 401s, not a 503
    proc, base, owners = embedded_stack(
        tmp, ("Fuzzed", "Bystander"), GENERATE_RATE="100000/minute", RUNWAY_WEBHOOK_SECRET=secret
    )
    import requests

    bystander = {"Authorization": f"Token {owners[1]['token']}"}
    job = requests.post(f"{base}/api/image-to-video/generate", json=generate_body(), headers=bystander, timeout=30)
    owners[1]["jobId"] = job.json()["jobId"]  # an object of the other client that must never show
    yield base, owners
    stop(proc)


def test_every_route_holds_up_to_generated_requests(fuzz_server):
    base, (fuzzed, bystander) = fuzz_server
    api = schemathesis.openapi.from_url(f"{base}/api/schema/?format=json")
    headers = {"Authorization": f"Token {fuzzed['token']}"}
    checks = [not_a_server_error, response_schema_conformance]
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 10, "every route of the schema"

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case):
            response = case.call_and_validate(base_url=base, headers=headers, checks=checks, timeout=30)
            assert response.status_code < 500
            for secret in (bystander["clientId"], bystander["jobId"], bystander["token"]):
                assert secret not in response.text, f"{case.method} {case.path} showed the other client's data"

        check()
