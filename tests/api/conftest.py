"""An API client that logs in with POST /api/v1/tokens and sends the bearer token."""

import pytest


class ApiClient:
    def __init__(self, app, token=None):
        self.app = app
        self.client = app.test_client()
        self.token = token

    def _headers(self, headers=None):
        merged = dict(headers or {})
        if self.token:
            merged.setdefault("Authorization", f"Bearer {self.token}")
        return merged

    def request(self, method, url, json=None, headers=None):
        with self.app.app_context():  # a fresh context per request, as in production
            return self.client.open(url, method=method, json=json,
                                    headers=self._headers(headers))

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, json=None, **kwargs):
        return self.request("POST", url, json=json, **kwargs)

    def put(self, url, json=None, **kwargs):
        return self.request("PUT", url, json=json, **kwargs)

    def patch(self, url, json=None, **kwargs):
        return self.request("PATCH", url, json=json, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)


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
