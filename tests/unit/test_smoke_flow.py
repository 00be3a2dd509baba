from tests.support.api_client import ApiClient


def test_register_login_create_get(client: ApiClient) -> None:
    r = client.post("/auth/register", json_body={"name": "Ann", "email": "Ann@Example.com", "password": "s3cret-pass"})
    assert r.status_code == 201, r.body
    r = client.post("/auth/login", json_body={"email": "ann@example.com", "password": "s3cret-pass"})
    assert r.status_code == 200, r.body
    token = r.json()["accessToken"]
    r = client.post("/tasks", json_body={"title": "x", "tags": ["a"]}, token=token)
    assert r.status_code == 201, r.body
    task = r.json()
    r = client.get(f"/tasks/{task['id']}", token=token)
    assert r.status_code == 200, r.body
    r = client.get("/tasks", token=token)
    assert r.status_code == 200, r.body
    r = client.get("/health")
    assert r.status_code == 200, r.body
