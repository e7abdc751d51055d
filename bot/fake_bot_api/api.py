"""Bot API methods of the fake server, working on a :class:`World`.

Each method validates everything before it changes state, so a refused call leaves no trace
but its record. Error descriptions follow the real server's wording where it is known.
"""

from __future__ import annotations

import json
import mimetypes
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .formatting import FormattingError, parse_formatted, utf16_len
from .models import ApiError, StoredFile, UploadedFile, bad_request
from .world import ChatState, World

__all__ = ["CANONICAL_METHODS", "SEND_LIKE_METHODS", "BotApi", "BotInfo"]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_TEXT_LIMIT = 200
DOWNLOAD_LIMIT = 20 * 1024 * 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_MEDIA_KINDS = {
    "sendphoto": "photo",
    "senddocument": "document",
    "sendvideo": "video",
    "sendaudio": "audio",
    "sendvoice": "voice",
    "sendanimation": "animation",
    "sendsticker": "sticker",
    "sendvideonote": "video_note",
}
_NO_CAPTION = {"sticker", "video_note"}
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Content fields copyMessage/forwardMessage carry over to the new message.
_CONTENT_KEYS = (
    "text",
    "entities",
    "link_preview_options",
    "animation",
    "audio",
    "document",
    "photo",
    "sticker",
    "video",
    "video_note",
    "voice",
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "has_media_spoiler",
    "contact",
    "dice",
    "location",
    "venue",
    "poll",
)
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
# Update types getUpdates delivers when allowed_updates was never set (or set to []).
_DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

CANONICAL_METHODS = {
    name.lower(): name
    for name in (
        "getMe",
        "logOut",
        "close",
        "getUpdates",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "setMyCommands",
        "getMyCommands",
        "deleteMyCommands",
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendMediaGroup",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "copyMessage",
        "forwardMessage",
        "deleteMessage",
        "deleteMessages",
        "getFile",
        "sendChatAction",
        "getChat",
        "getChatMember",
        "getChatMemberCount",
        "pinChatMessage",
        "unpinChatMessage",
        "unpinAllChatMessages",
        "leaveChat",
        "setMyDescription",
        "setMyShortDescription",
        "setMyName",
        "setChatMenuButton",
        "setMessageReaction",
    )
}
# Methods that deliver something into a chat: a user who blocked the bot makes them fail.
SEND_LIKE_METHODS = frozenset(
    key
    for key in CANONICAL_METHODS
    if key.startswith(("send", "editmessage")) or key in {"copymessage", "forwardmessage"}
)


@dataclass(frozen=True, slots=True)
class BotInfo:
    """The bot a token belongs to."""

    id: int
    token: str
    user: dict[str, Any]  # the User object used as "from" of its messages


class BotApi:
    """The method implementations; ``call`` dispatches by lower-cased method name."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.allowed_updates: dict[int, frozenset[str] | None] = {}
        self.pollers: dict[int, object] = {}
        self.commands: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
        self.markups: dict[tuple[int, int], dict[str, Any]] = {}
        self.closing = False
        self._methods: dict[str, Callable[[BotInfo, dict[str, Any]], Any]] = {
            "getme": self.get_me,
            "logout": self._true,
            "close": self._true,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "deletemycommands": self.delete_my_commands,
            "sendmessage": self.send_message,
            "sendlocation": self.send_location,
            "sendvenue": self.send_venue,
            "sendcontact": self.send_contact,
            "sendmediagroup": self.send_media_group,
            "editmessagetext": self.edit_message_text,
            "editmessagecaption": self.edit_message_caption,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "answercallbackquery": self.answer_callback_query,
            "copymessage": self.copy_message,
            "forwardmessage": self.forward_message,
            "deletemessage": self.delete_message,
            "deletemessages": self.delete_messages,
            "getfile": self.get_file,
            "sendchataction": self.send_chat_action,
            "getchat": self.get_chat,
            "getchatmember": self.get_chat_member,
            "getchatmembercount": self.get_chat_member_count,
            "pinchatmessage": self._chat_true,
            "unpinchatmessage": self._chat_true,
            "unpinallchatmessages": self._chat_true,
            "leavechat": self._chat_true,
            "setmydescription": self._true,
            "setmyshortdescription": self._true,
            "setmyname": self._true,
            "setchatmenubutton": self._true,
            "setmessagereaction": self._chat_true,
        }
        for key, kind in _MEDIA_KINDS.items():
            self._methods[key] = self._media_sender(kind)

    def knows(self, key: str) -> bool:
        return key in self._methods or key == "getupdates"

    def call(self, bot: BotInfo, key: str, params: dict[str, Any]) -> Any:
        """Run a synchronous method (everything but getUpdates)."""
        return self._methods[key](bot, params)

    # -- bot, webhook, commands ------------------------------------------------------------

    def get_me(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **bot.user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _true(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        return True

    def _chat_true(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        self.world.resolve_chat(params.get("chat_id"))
        return True

    def set_webhook(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if url and not str(url).startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if url:
            self.webhooks[bot.id] = {k: v for k, v in params.items() if k != "certificate"}
        else:
            self.webhooks.pop(bot.id, None)
        if params.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def delete_webhook(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        self.webhooks.pop(bot.id, None)
        if params.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _drop_pending(self) -> None:
        if self.world.pending:
            self.world.pending.clear()
            self.world.confirmed_signal.notify()

    def get_webhook_info(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        hook = self.webhooks.get(bot.id, {})
        info: dict[str, Any] = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.pending),
        }
        if hook.get("allowed_updates") is not None:
            info["allowed_updates"] = hook["allowed_updates"]
        return info

    @staticmethod
    def _commands_key(bot: BotInfo, params: dict[str, Any]) -> tuple[int, str, str]:
        scope = params.get("scope") or {"type": "default"}
        return bot.id, json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def set_my_commands(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("commands is empty")
        if len(commands) > 100:
            raise bad_request("too many commands")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
        self.commands[self._commands_key(bot, params)] = commands
        return True

    def get_my_commands(self, bot: BotInfo, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(bot, params), [])

    def delete_my_commands(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(bot, params), None)
        return True

    # -- getUpdates ------------------------------------------------------------------------

    async def get_updates(
        self, bot: BotInfo, params: dict[str, Any], now: Callable[[], float]
    ) -> list[dict[str, Any]]:
        """Long polling: answer at once if updates are pending, else wait up to ``timeout``."""
        if bot.id in self.webhooks:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int_param(params, "offset", 0)
        limit = min(100, max(1, _int_param(params, "limit", 100)))
        timeout = max(0.0, float(_int_param(params, "timeout", 0)))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            # Like the server, remembered for later calls that do not pass it.
            self.allowed_updates[bot.id] = frozenset(allowed) if allowed else None
        self.world.confirm(offset)

        # A newer getUpdates ends an older one still waiting (the server's 409 Conflict).
        ticket = object()
        self.pollers[bot.id] = ticket
        self.world.updates_signal.notify()
        deadline = now() + timeout
        try:
            while True:
                if self.pollers.get(bot.id) is not ticket:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                batch = self._collect(bot, limit)
                remaining = deadline - now()
                if batch or self.closing or remaining <= 0:
                    return batch
                await self.world.updates_signal.wait(remaining)
        finally:
            if self.pollers.get(bot.id) is ticket:
                del self.pollers[bot.id]

    def _collect(self, bot: BotInfo, limit: int) -> list[dict[str, Any]]:
        allowed = self.allowed_updates.get(bot.id)
        batch: list[dict[str, Any]] = []
        unwanted: list[int] = []
        for update in self.world.pending:
            kind = next((k for k in update if k != "update_id"), "")
            wanted = kind in allowed if allowed is not None else kind not in _DEFAULT_EXCLUDED
            if not wanted:
                unwanted.append(update["update_id"])
                continue
            batch.append(update)
            if len(batch) >= limit:
                break
        if unwanted:
            # The server never delivers updates of types the bot did not ask for.
            drop = set(unwanted)
            kept = [u for u in self.world.pending if u["update_id"] not in drop]
            self.world.pending.clear()
            self.world.pending.extend(kept)
            self.world.confirmed_signal.notify()
        return batch

    # -- sending ---------------------------------------------------------------------------

    def send_message(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        state = self.world.resolve_chat(params.get("chat_id"))
        text, entities = self._text(params, "text", "entities", TEXT_LIMIT)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        options = params.get("link_preview_options")
        if isinstance(options, dict) and options:
            content["link_preview_options"] = options
        return self._deliver(bot, state, params, content)

    def _media_sender(self, kind: str) -> Callable[[BotInfo, dict[str, Any]], dict[str, Any]]:
        def send(bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
            state = self.world.resolve_chat(params.get("chat_id"))
            content: dict[str, Any] = {}
            if kind not in _NO_CAPTION:
                content.update(self._caption(params))
            content[kind] = self._media(kind, params.get(kind), params)
            if kind == "animation":
                # The server sends animations with a duplicate "document" field.
                content["document"] = content["animation"]
            if params.get("has_spoiler"):
                content["has_media_spoiler"] = True
            return self._deliver(bot, state, params, content)

        return send

    def send_location(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        state = self.world.resolve_chat(params.get("chat_id"))
        content = {"location": self._location(params)}
        return self._deliver(bot, state, params, content)

    def send_venue(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        state = self.world.resolve_chat(params.get("chat_id"))
        location = self._location(params)
        for name in ("title", "address"):
            if not params.get(name):
                raise bad_request(f"{name} is empty")
        venue = {"location": location, "title": params["title"], "address": params["address"]}
        for name in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if params.get(name):
                venue[name] = params[name]
        return self._deliver(bot, state, params, {"venue": venue, "location": location})

    def send_contact(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        state = self.world.resolve_chat(params.get("chat_id"))
        for name in ("phone_number", "first_name"):
            if not params.get(name):
                raise bad_request(f"{name} is empty")
        contact = {"phone_number": str(params["phone_number"]), "first_name": params["first_name"]}
        for name in ("last_name", "vcard"):
            if params.get(name):
                contact[name] = params[name]
        return self._deliver(bot, state, params, {"contact": contact})

    def send_media_group(self, bot: BotInfo, params: dict[str, Any]) -> list[dict[str, Any]]:
        state = self.world.resolve_chat(params.get("chat_id"))
        media = params.get("media")
        if not isinstance(media, list) or not media:
            raise bad_request("media is empty")
        if not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media items: must be between 2 and 10")
        kinds: list[str] = [
            str(item.get("type")) if isinstance(item, dict) else "" for item in media
        ]
        for kind in kinds:
            if kind not in {"photo", "video", "document", "audio"}:
                raise bad_request(f"unsupported media type {kind!r} in the media group")
        for lonely in ("document", "audio"):
            if lonely in kinds and any(k != lonely for k in kinds):
                raise bad_request(f"{lonely} can't be mixed with other media types")
        reply = self._reply(state, params)
        contents = []
        for item, kind in zip(media, kinds, strict=True):
            content = self._caption(item)
            content[kind] = self._media(kind, item.get("media"), item)
            contents.append(content)
        group_id = str(secrets.randbelow(10**17) + 10**17)
        sent = []
        for content in contents:
            message = self.world.new_message(state, bot.user, content)
            message["media_group_id"] = group_id
            if reply is not None:
                message["reply_to_message"] = reply
            self.world.store_bot_message(state, message)
            sent.append(message)
        return sent

    def _deliver(
        self, bot: BotInfo, state: ChatState, params: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        """Create and store the bot's message once every parameter has been checked."""
        markup = self._markup(params)
        reply = self._reply(state, params)
        message = self.world.new_message(state, bot.user, content)
        if params.get("message_thread_id"):
            message["message_thread_id"] = params["message_thread_id"]
        if reply is not None:
            message["reply_to_message"] = reply
        if params.get("protect_content"):
            message["has_protected_content"] = True
        if markup is not None:
            self.markups[(state.id, message["message_id"])] = markup
            # Only inline keyboards are part of a Message; other markups act on the client.
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
        self.world.store_bot_message(state, message)
        return message

    def _text(
        self, params: dict[str, Any], key: str, entities_key: str, limit: int
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = params.get(key)
        if raw is None or not str(raw).strip():
            raise bad_request("message text is empty")
        text, entities = self._format(str(raw), params, entities_key)
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > limit:
            raise bad_request("message is too long")
        return text, entities

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = params.get("caption")
        if raw is None or raw == "":
            return {}
        caption, entities = self._format(str(raw), params, "caption_entities")
        if utf16_len(caption) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
        content: dict[str, Any] = {"caption": caption} if caption else {}
        if entities:
            content["caption_entities"] = entities
        if params.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        return content

    @staticmethod
    def _format(
        raw: str, params: dict[str, Any], entities_key: str
    ) -> tuple[str, list[dict[str, Any]]]:
        parse_mode = params.get("parse_mode")
        if parse_mode:
            try:
                return parse_formatted(raw, str(parse_mode))
            except FormattingError as exc:
                raise bad_request(f"can't parse entities: {exc}") from exc
            except ValueError as exc:
                raise bad_request("unsupported parse_mode") from exc
        entities = params.get(entities_key)
        if entities is not None and not isinstance(entities, list):
            raise bad_request(f"can't parse {entities_key} JSON object")
        return raw, list(entities or [])

    def _location(self, params: dict[str, Any]) -> dict[str, Any]:
        location: dict[str, Any] = {}
        for name, bound in (("latitude", 90.0), ("longitude", 180.0)):
            value = params.get(name)
            if value is None or value == "":
                raise bad_request(f"{name} is empty")
            if not isinstance(value, int | float) or not -bound <= value <= bound:
                raise bad_request(f"wrong {name}")
            location[name] = float(value)
        for name in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if params.get(name) is not None:
                location[name] = params[name]
        return location

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("can't parse inline keyboard button: field must be an array")
            for row in rows:
                for button in row:
                    _check_inline_button(button)
        elif not ({"keyboard", "force_reply", "remove_keyboard"} & markup.keys()):
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup

    def _reply(self, state: ChatState, params: dict[str, Any]) -> dict[str, Any] | None:
        reply_id = params.get("reply_to_message_id")
        allow = bool(params.get("allow_sending_without_reply"))
        target_state = state
        parameters = params.get("reply_parameters")
        if isinstance(parameters, dict):
            reply_id = parameters.get("message_id")
            allow = bool(parameters.get("allow_sending_without_reply", allow))
            if parameters.get("chat_id") is not None:
                target_state = self.world.resolve_chat(parameters["chat_id"])
        if reply_id is None:
            return None
        target = target_state.messages.get(_message_id(reply_id))
        if target is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        # The server never nests replies more than one level deep.
        return {k: v for k, v in target.items() if k != "reply_to_message"}

    # -- files -----------------------------------------------------------------------------

    def _media(self, kind: str, value: Any, params: dict[str, Any]) -> Any:
        """The API value (PhotoSize list or file object) for a file parameter of ``kind``."""
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, UploadedFile):
            stored = self._store_upload(kind, value, params)
            value.file_id = stored.file_id
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            # No network here: a URL "downloads" as a small placeholder file.
            upload = UploadedFile(value.rsplit("/", 1)[-1] or kind, None, value.encode())
            stored = self._store_upload(kind, upload, params)
        elif isinstance(value, str) and value in self.world.files:
            stored = self.world.files[value]
            if (stored.kind == "photo") != (kind == "photo"):
                raise bad_request(f"can't use file of type {_title(stored.kind)} as {_title(kind)}")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if kind == "photo":
            return stored.photo_sizes or [stored.info]
        return _with_required_fields(kind, stored.info)

    def _store_upload(self, kind: str, upload: UploadedFile, params: dict[str, Any]) -> StoredFile:
        if not upload.content:
            raise bad_request("file must be non-empty")
        if kind == "photo":
            sizes = self.world.new_photo(upload.content, 1280, 960)
            return self.world.files[sizes[-1]["file_id"]]
        name = upload.filename or kind
        mime = mimetypes.guess_type(name)[0] or upload.content_type or "application/octet-stream"
        info: dict[str, Any] = {}
        if kind in {"document", "audio", "video", "animation"}:
            info["mime_type"] = mime
        if kind in {"video", "animation"}:
            info["width"] = params.get("width") or 640
            info["height"] = params.get("height") or 360
        if kind in {"video", "animation", "audio", "voice", "video_note"}:
            info["duration"] = params.get("duration") or 1
        if kind == "voice":
            info["mime_type"] = "audio/ogg"
        if kind == "audio":
            for name_key in ("performer", "title"):
                if params.get(name_key):
                    info[name_key] = params[name_key]
        if kind == "video_note":
            info["length"] = params.get("length") or 240
        if kind == "sticker":
            info.update(
                type="regular",
                width=512,
                height=512,
                is_animated=False,
                is_video=False,
            )
            if params.get("emoji"):
                info["emoji"] = params["emoji"]
        return self.world.new_file(kind, upload.content, info, file_name=name)

    def get_file(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        if not file_id:
            raise bad_request("file_id is empty")
        stored = self.world.files.get(str(file_id))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    # -- editing ---------------------------------------------------------------------------

    def _editable(
        self, bot: BotInfo, params: dict[str, Any]
    ) -> tuple[ChatState, dict[str, Any]] | None:
        """The bot message an edit targets; None for inline messages (not tracked)."""
        if params.get("inline_message_id"):
            return None
        if params.get("chat_id") is None or params.get("chat_id") == "":
            raise bad_request("chat_id is empty")
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        state = self.world.resolve_chat(params.get("chat_id"))
        message = state.messages.get(_message_id(params["message_id"]))
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != bot.id:
            raise bad_request("message can't be edited")
        return state, message

    def _store_edit(
        self,
        state: ChatState,
        old: dict[str, Any],
        changes: dict[str, Any],
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        new = {**old, **{k: v for k, v in changes.items() if v is not None}}
        for key, value in changes.items():
            if value is None:
                new.pop(key, None)
        # Editing without reply_markup removes the inline keyboard, as on the real server.
        inline = markup is not None and "inline_keyboard" in markup
        if inline:
            new["reply_markup"] = markup
        else:
            new.pop("reply_markup", None)
        if _same_content(old, new):
            raise bad_request(NOT_MODIFIED)
        if inline:
            self.markups[(state.id, old["message_id"])] = markup  # type: ignore[assignment]
        else:
            self.markups.pop((state.id, old["message_id"]), None)
        new["edit_date"] = max(int(old.get("date", 0)), _now())
        self.world.replace_message(state, new)
        return new

    def edit_message_text(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any] | bool:
        text, entities = self._text(params, "text", "entities", TEXT_LIMIT)
        markup = self._markup(params)
        target = self._editable(bot, params)
        if target is None:
            return True
        state, old = target
        if "text" not in old:
            raise bad_request("there is no text in the message to edit")
        options = params.get("link_preview_options")
        changes = {
            "text": text,
            "entities": entities or None,
            "link_preview_options": options if isinstance(options, dict) and options else None,
        }
        return self._store_edit(state, old, changes, markup)

    def edit_message_caption(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any] | bool:
        caption = self._caption(params)
        markup = self._markup(params)
        target = self._editable(bot, params)
        if target is None:
            return True
        state, old = target
        if "text" in old:
            raise bad_request("there is no caption in the message to edit")
        changes = {
            "caption": caption.get("caption"),
            "caption_entities": caption.get("caption_entities"),
        }
        return self._store_edit(state, old, changes, markup)

    def edit_message_reply_markup(
        self, bot: BotInfo, params: dict[str, Any]
    ) -> dict[str, Any] | bool:
        markup = self._markup(params)
        target = self._editable(bot, params)
        if target is None:
            return True
        state, old = target
        return self._store_edit(state, old, {}, markup)

    def answer_callback_query(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        record = self.world.callback_queries.get(query_id)
        if record is None or record["answer"] is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > CALLBACK_TEXT_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        record["answer"] = dict(params)
        return True

    # -- copy, forward, delete -------------------------------------------------------------

    def _source(self, params: dict[str, Any], verb: str) -> dict[str, Any]:
        source_chat = self.world.resolve_chat(params.get("from_chat_id"), "from_chat_id")
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        source = source_chat.messages.get(_message_id(params["message_id"]))
        if source is None:
            raise bad_request(f"message to {verb} not found")
        return source

    def copy_message(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        state = self.world.resolve_chat(params.get("chat_id"))
        source = self._source(params, "copy")
        content = {k: source[k] for k in _CONTENT_KEYS if k in source}
        if not content:
            raise bad_request("message can't be copied")
        if "caption" in params and "text" not in content:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption(params))
        message = self._deliver(bot, state, params, content)
        return {"message_id": message["message_id"]}

    def forward_message(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        state = self.world.resolve_chat(params.get("chat_id"))
        source = self._source(params, "forward")
        content = {k: source[k] for k in _CONTENT_KEYS if k in source}
        if "forward_origin" in source:
            content["forward_origin"] = source["forward_origin"]
        elif "from" in source:
            content["forward_origin"] = {
                "type": "user",
                "sender_user": source["from"],
                "date": source["date"],
            }
        else:
            content["forward_origin"] = {
                "type": "chat",
                "sender_chat": source["chat"],
                "date": source["date"],
            }
        # forwardMessage takes no reply_markup; keep the recorded params honest about that.
        params = {k: v for k, v in params.items() if k != "reply_markup"}
        return self._deliver(bot, state, params, content)

    def delete_message(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        state = self.world.resolve_chat(params.get("chat_id"))
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        if state.messages.pop(_message_id(params["message_id"]), None) is None:
            raise bad_request("message to delete not found")
        return True

    def delete_messages(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        state = self.world.resolve_chat(params.get("chat_id"))
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids is empty")
        for message_id in ids:
            state.messages.pop(_message_id(message_id), None)
        return True

    # -- chats -----------------------------------------------------------------------------

    def send_chat_action(self, bot: BotInfo, params: dict[str, Any]) -> bool:
        self.world.resolve_chat(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def get_chat(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        state = self.world.resolve_chat(params.get("chat_id"))
        return {
            **state.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def get_chat_member(self, bot: BotInfo, params: dict[str, Any]) -> dict[str, Any]:
        self.world.resolve_chat(params.get("chat_id"))
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise bad_request("user_id is empty")
        if user_id == bot.id:
            user = bot.user
        elif user_id in self.world.users:
            user = self.world.users[user_id].to_dict()
        else:
            raise bad_request("user not found")
        return {"status": "member", "user": user}

    def get_chat_member_count(self, bot: BotInfo, params: dict[str, Any]) -> int:
        state = self.world.resolve_chat(params.get("chat_id"))
        return 2 if state.chat["type"] == "private" else 10


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text", "")).strip():
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [key for key in _INLINE_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).strip():
        raise bad_request("BUTTON_URL_INVALID")


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    keys = ("text", "entities", "caption", "caption_entities", "reply_markup")
    return all(old.get(k) == new.get(k) for k in keys)


def _with_required_fields(kind: str, info: dict[str, Any]) -> dict[str, Any]:
    # A file re-sent as another kind (voice via sendAudio …) still needs that kind's fields.
    all_defaults: dict[str, dict[str, Any]] = {
        "video": {"width": 640, "height": 360, "duration": 1},
        "animation": {"width": 640, "height": 360, "duration": 1},
        "audio": {"duration": 1},
        "voice": {"duration": 1},
        "video_note": {"length": 240, "duration": 1},
        "sticker": {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    }
    defaults = all_defaults.get(kind, {})
    missing = {k: v for k, v in defaults.items() if k not in info}
    return {**info, **missing} if missing else info


def _title(kind: str) -> str:
    return kind.replace("_", " ").title().replace(" ", "")


def _int_param(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name, default)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"wrong parameter {name} in request") from exc


def _now() -> int:
    return int(time.time())


def _message_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise bad_request("message identifier is not specified") from exc
