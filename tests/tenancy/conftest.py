"""Fixtures of the tenancy tests: the operators' command line, API clients, a new company."""

import re

import pytest

from tests.api.conftest import ApiClient

LINK_RE = re.compile(r"Invitation link: (\S+)")


@pytest.fixture
def api(app):
    def make(email=None, password="demo1234"):
        client = ApiClient(app)
        if email:
            response = client.post("/api/v1/tokens", {"email": email, "password": password})
            assert response.status_code == 201, response.json
            client.token = response.json["token"]
        return client

    return make


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args, input=None):
        return runner.invoke(args=["tenants", *args], input=input)

    return run


@pytest.fixture
def new_company(cli):
    """``flask tenants create nova ...``: returns the invitation path printed."""

    def make(slug="nova", email="admin@nova.test", *extra):
        result = cli("create", slug, "--name", "Nova S.A.S.", "--admin-email", email,
                     "--admin-name", "Nora Vega", *extra)
        assert result.exit_code == 0, result.output
        url = LINK_RE.search(result.output).group(1)
        return url[url.index("/account/"):]

    return make
