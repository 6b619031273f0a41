def test_dashboard_after_login(auth, world, client):
    response = auth.login("surveyor-a")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "surveyor-a" in page.get_data(as_text=True)
