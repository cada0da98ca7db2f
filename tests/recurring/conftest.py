import pytest

from tests.api.conftest import ApiClient


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
