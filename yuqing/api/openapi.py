"""The OpenAPI 3.1 document of /api/v1 (served at /api/v1/openapi.json; schemathesis checks it)."""
from __future__ import annotations

from typing import Any

_NULLABLE_STR = {"type": ["string", "null"]}
_UNIT = {"type": "object", "required": ["code", "name"],
         "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
_WINDOW = {"type": "object", "required": ["key", "state"], "properties": {"key": {"type": "string"},
                                                                          "state": {"type": "string"}}}
_INCIDENT = {
    "type": "object",
    "required": ["id", "title", "unit", "co_units", "parent_id", "level", "sudden", "category", "status",
                 "first_post_at", "detected_at", "logged_at", "started_at", "closed_at", "voided_at", "windows"],
    "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "unit": _UNIT,
        "co_units": {"type": "array", "items": _UNIT}, "parent_id": {"type": ["integer", "null"]},
        "level": _NULLABLE_STR, "sudden": {"type": ["boolean", "null"]}, "category": _NULLABLE_STR,
        "status": {"enum": ["open", "closed", "voided"]},
        "first_post_at": _NULLABLE_STR, "detected_at": _NULLABLE_STR, "logged_at": _NULLABLE_STR,
        "started_at": {"type": "string"}, "closed_at": _NULLABLE_STR, "voided_at": _NULLABLE_STR,
        "windows": {"type": "array", "items": _WINDOW},
    },
}
_ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "additionalProperties": False,
                             "properties": {"code": {"type": "string", "pattern": "^E_[A-Z0-9_]+$"},
                                            "message": {"type": "string"}}}},
}
_PUSH_ITEM = {
    "type": "object", "additionalProperties": False, "required": ["published_at"],
    "properties": {name: {"type": "string"} for name in ("title", "text", "url", "published_at", "source", "unit")},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    names = {400: "输入无效", 401: "缺少或无效的令牌", 403: "无权操作", 404: "不存在", 413: "请求过大",
             503: "数据库不可用"}
    return {str(s): _json({"$ref": "#/components/schemas/Error"}, names[s]) for s in statuses}


def _param(name: str, schema: dict[str, Any], where: str = "query", required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


_NOW = _param("now", {"type": "string"})
_ID = _param("id", {"type": "integer", "minimum": 1}, "path", True)


_PAGE_HEADERS = {
    "X-Total-Count": {"description": "符合条件的总条数", "schema": {"type": "integer"}},
    "X-Offset": {"description": "本页从第几条之后开始", "schema": {"type": "integer"}},
}


def document() -> dict[str, Any]:
    reads = _errors(400, 401, 503)
    writes = _errors(400, 401, 403, 404, 413, 503)
    return {
        "openapi": "3.1.0",
        "info": {"title": "政务舆情回应时效 API", "version": "1"},
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR, "Incident": _INCIDENT},
        },
        "paths": {
            "/api/v1/incidents": {
                "get": {
                    "summary": "舆情列表（同 yuqing incident list --json）",
                    "parameters": [_param("open", {"type": "boolean"}), _param("unit", {"type": "string"}),
                                   _param("limit", {"type": "integer", "minimum": 1}),
                                   _param("offset", {"type": "integer", "minimum": 0}), _NOW],
                    "responses": {"200": {**_json({"type": "array", "items": {"$ref": "#/components/schemas/Incident"}},
                                                  "舆情列表（最多 limit 条，自 offset 起）"),
                                          "headers": _PAGE_HEADERS}, **reads},
                },
                "post": {
                    "summary": "登记舆情（同 yuqing incident add）",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["title", "unit"], "additionalProperties": False,
                        "properties": {
                            "title": {"type": "string"}, "unit": {"type": "string"},
                            "co_units": {"type": "array", "items": {"type": "string"}},
                            "parent_id": {"type": "integer"}, "summary": {"type": "string"},
                            "first_post_at": {"type": "string"}, "detected_at": {"type": "string"},
                            "level": {"type": "string"}, "sudden": {"type": "boolean"},
                            "category": {"type": "string"}, "source_url": {"type": "string"},
                            "classify": {"type": "boolean"},
                        }}}}},
                    "responses": {"201": _json({"$ref": "#/components/schemas/Incident"}, "已登记"), **writes},
                },
            },
            "/api/v1/incidents/{id}": {
                "get": {
                    "summary": "舆情详情（同 yuqing incident show --json）",
                    "parameters": [_ID, _NOW],
                    "responses": {"200": _json({"$ref": "#/components/schemas/Incident"}, "舆情详情"),
                                  **_errors(400, 401, 404, 503)},
                },
            },
            "/api/v1/incidents/{id}/actions": {
                "post": {
                    "summary": "登记处置（同 yuqing incident act）",
                    "parameters": [_ID],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["kind", "at"], "additionalProperties": False,
                        "properties": {
                            "kind": {"type": "string"}, "at": {"type": "string"},
                            "channels": {"type": "array", "items": {"type": "string"}},
                            "by_principal": {"type": "boolean"}, "evidence_url": {"type": "string"},
                            "note": {"type": "string"}, "reason": {"type": "string"},
                        }}}}},
                    "responses": {"201": _json({"type": "object", "required": ["id", "incident_id"], "properties": {
                        "id": {"type": "integer"}, "incident_id": {"type": "integer"}}}, "已登记"), **writes},
                },
            },
            "/api/v1/scores": {
                "get": {
                    "summary": "年度考核得分（同 yuqing score --format json）",
                    "parameters": [_param("year", {"type": "integer"}, required=True), _NOW],
                    "responses": {"200": _json({"type": "array", "items": {"type": "object"}}, "各单位得分"), **reads},
                },
            },
            "/api/v1/triage": {
                "get": {
                    "summary": "待研判队列（同 yuqing triage list --json）",
                    "parameters": [_param("limit", {"type": "integer", "minimum": 1}),
                                   _param("offset", {"type": "integer", "minimum": 0}), _NOW],
                    "responses": {"200": {**_json({"type": "array", "items": {"type": "object", "required": [
                        "id", "title", "link", "published_at", "source", "classification", "unit", "group", "state",
                        "reason", "incident", "similar_incidents"]}},
                        "待研判信息（最多 limit 条，自 offset 起；不给 limit 时为全部）"),
                        "headers": _PAGE_HEADERS}, **reads},
                },
            },
            "/api/v1/items": {
                "post": {
                    "summary": "推送舆情信息（舆情服务商、12345 平台）：与信息源同样去重、分类、进入待研判",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "oneOf": [_PUSH_ITEM, {"type": "array", "items": _PUSH_ITEM, "maxItems": 500}]}}}},
                    "responses": {"200": _json({"type": "object", "required": ["stored", "duplicates", "items"],
                                                "properties": {
                        "stored": {"type": "integer"}, "duplicates": {"type": "integer"},
                        "items": {"type": "array", "items": {"type": "object", "required": ["id", "state"],
                                                             "properties": {"id": {"type": "integer"},
                                                                            "state": {"type": "string"}}}}}},
                        "已接收"), **writes},
                },
            },
        },
    }
