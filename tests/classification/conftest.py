import pytest

from tests.api.conftest import ApiClient


@pytest.fixture
def api(app):
    def make(email):
        client = ApiClient(app)
        response = client.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
        assert response.status_code == 201, response.json
        client.token = response.json["token"]
        return client

    return make
