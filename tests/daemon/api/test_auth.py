"""Every path but health, the schema and the page needs the bearer token; it is checked exactly."""

from __future__ import annotations

import pytest

from daemon.api.auth import TokenCheck
from tests.daemon.api.harness import AUTH, TOKEN, asgi_client, open_service

GUARDED = [
    ("GET", "/v1/parents"),
    ("GET", "/v1/parents/P1"),
    ("POST", "/v1/parents/P1/cancel"),
    ("POST", "/v1/twaps"),
    ("POST", "/v1/rebalances"),
    ("GET", "/v1/events"),
    ("GET", "/metrics"),
]


async def test_health_answers_without_a_token() -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(("method", "path"), GUARDED)
async def test_a_request_without_a_token_is_refused_with_401(method: str, path: str) -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(("method", "path"), GUARDED)
async def test_a_wrong_token_is_refused_with_401(method: str, path: str) -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.request(
            method, path, json={}, headers={"Authorization": f"Bearer {TOKEN[:-1]}X"}
        )
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", TOKEN, f"Bearer {TOKEN} extra", "Bearer", "Bearer é"]
)
async def test_malformed_authorization_headers_are_refused_with_401(header: str) -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.get("/v1/parents", headers={b"Authorization": header.encode("utf-8")})
    assert response.status_code == 401


async def test_the_right_token_is_let_through() -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.get("/v1/parents", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"parents": []}


@pytest.mark.parametrize("path", ["/", "/static/page.js", "/static/page.css", "/openapi.json", "/docs"])
async def test_the_page_and_the_schema_hold_no_data_and_need_no_token(path: str) -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.get(path)
    assert response.status_code == 200


def test_the_token_check_compares_the_whole_token() -> None:
    check = TokenCheck(TOKEN)
    assert check.matches(TOKEN)
    assert not check.matches(TOKEN[:-1])
    assert not check.matches(TOKEN + "x")
    assert not check.matches("")
    assert "test-token" not in repr(check)


async def test_the_page_allows_only_its_own_script_and_style() -> None:
    async with open_service() as service, asgi_client(service) as client:
        page = await client.get("/")
        unknown = await client.get("/static/../app.py")
        missing = await client.get("/static/other.js")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script src="/static/page.js"' in page.text
    assert unknown.status_code == missing.status_code == 404
