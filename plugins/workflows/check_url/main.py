"""A monitoring workflow built on the HTTP/JSON tool."""

from typing import Any, Dict


def execute(data: Dict[str, Any] = None, tools: Dict[str, Any] = None) -> Dict[str, Any]:
    data = data or {}
    result = tools["http_json"].execute("get", {"path": data["url"]})
    code = (result.get("data") or {}).get("status_code")
    if code is None:
        return {"status": "error", "message": result.get("error", "no response")}
    ok = code == data.get("expect_status", 200)
    return {"status": "success" if ok else "error",
            "message": f"{data['url']} answered {code}" + ("" if ok else f", expected {data.get('expect_status')}"),
            "data": {"status_code": code, "body": result["data"]["body"]}}
