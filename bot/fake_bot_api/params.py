"""Read Bot API parameters from any encoding the real server accepts and give them their types.

aiogram and python-telegram-bot both send every value as a string (form fields): numbers as
``"123"``, booleans as ``"true"``, objects as JSON text, files as multipart parts referenced
by ``attach://<name>`` (aiogram always; PTB for InputMedia) or sent under the parameter's own
name (PTB for top-level files). Tests must see plain Python values, so this module undoes that.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import BodyPartReader, web

from .models import UploadedFile, bad_request

__all__ = ["decode_params", "read_params"]

# Object/array parameters; their string values are JSON text.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "media",
        "reply_parameters",
        "allowed_updates",
        "link_preview_options",
        "commands",
        "scope",
        "message_ids",
        "results",
        "options",
        "explanation_entities",
        "question_entities",
        "prices",
        "permissions",
        "reaction",
        "input_message_content",
        "button",
        "menu_button",
        "rights",
        "suggested_post_parameters",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "duration",
        "width",
        "height",
        "length",
        "live_period",
        "heading",
        "proximity_alert_radius",
        "user_id",
        "until_date",
        "max_connections",
        "direct_messages_topic_id",
    }
)
FLOAT_FIELDS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "supports_streaming",
        "allow_paid_broadcast",
        "show_caption_above_media",
        "is_big",
        "revoke_messages",
        "only_if_banned",
    }
)
_INT_RE = re.compile(r"-?\d+")
_HUMAN_NAMES = {
    "reply_markup": "reply keyboard markup",
    "entities": "message entities",
    "caption_entities": "caption entities",
    "media": "media",
}


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Collect raw parameters (query string + body) and uploaded file parts by part name."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return params, files
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise bad_request("can't parse JSON encoded request") from exc
        if isinstance(body, dict):
            params.update(body)
    elif ctype.startswith("multipart/"):
        # Read parts ourselves: request.post() spools files to temp files that are never
        # closed, which would surface as ResourceWarnings (errors under filterwarnings=error).
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                files[part.name] = UploadedFile(
                    filename=part.filename,
                    content_type=part.headers.get("Content-Type"),
                    content=bytes(await part.read(decode=True)),
                )
            else:
                params[part.name] = await part.text()
    else:
        # application/x-www-form-urlencoded (aiogram without files, PTB without files).
        form = await request.post()
        for key in form:
            value = form[key]
            params[key] = value if isinstance(value, str) else str(value)
    return params, files


def decode_params(raw: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
    """Typed parameters: JSON objects decoded, numbers and booleans converted, files resolved.

    A file uploaded under a parameter's own name (PTB) or referenced as ``attach://name``
    (aiogram, InputMedia) becomes an :class:`UploadedFile` in that parameter.
    """
    params: dict[str, Any] = {}
    used: set[str] = set()
    for key, value in raw.items():
        params[key] = _coerce(key, value, files, used)
    for name, upload in files.items():
        if name not in used and name not in params:
            params[name] = upload
    return params


def _coerce(key: str, value: Any, files: dict[str, UploadedFile], used: set[str]) -> Any:
    if isinstance(value, str):
        if value.startswith("attach://"):
            return _attachment(value, files, used)
        if key in JSON_FIELDS:
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise bad_request(f"can't parse {_HUMAN_NAMES.get(key, key)} JSON object") from exc
        elif key in INT_FIELDS:
            # "@channelusername" chat ids stay strings.
            return int(value) if _INT_RE.fullmatch(value.strip()) else value
        elif key in FLOAT_FIELDS:
            try:
                return float(value)
            except ValueError:
                return value
        elif key in BOOL_FIELDS:
            return value.strip().lower() in {"true", "1", "yes", "on"}
        else:
            return value
    # Only uploads can be referenced from inside objects; skip the walk without any.
    return _resolve_nested(value, files, used) if files else value


def _resolve_nested(value: Any, files: dict[str, UploadedFile], used: set[str]) -> Any:
    # InputMedia items carry "media": "attach://x" (and thumbnails) inside decoded JSON.
    if isinstance(value, dict):
        return {k: _resolve_nested(v, files, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_nested(v, files, used) for v in value]
    if isinstance(value, str) and value.startswith("attach://"):
        return _attachment(value, files, used)
    return value


def _attachment(value: str, files: dict[str, UploadedFile], used: set[str]) -> Any:
    name = value.removeprefix("attach://")
    upload = files.get(name)
    if upload is None:
        # Left as is; the method reports a bad file reference.
        return value
    used.add(name)
    return upload
