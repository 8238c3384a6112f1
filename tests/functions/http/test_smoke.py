def test_examples_run(platform):
    run = platform.run("hello_world", {"name": "Ada"})
    assert run.status == "success"
    assert platform.client.get("/api/workflows").status_code == 200
