"""Everything the bot says, in Chinese first and English second.

Each message is one ``Phrase``; ``phrase(lang, **values)`` renders it. Messages are plain text
(no parse mode), so a citizen's own words can be quoted without escaping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from handlers.model import Language, RequestType, TicketStatus


@dataclass(frozen=True, slots=True)
class Phrase:
    zh: str
    en: str

    def __call__(self, lang: Language, /, **values: object) -> str:
        template = self.en if lang is Language.EN else self.zh
        return template.format(**values) if values else template


REQUEST_TYPE_NAMES: dict[RequestType, Phrase] = {
    RequestType.CONSULTATION: Phrase("咨询", "Consultation"),
    RequestType.HELP: Phrase("求助", "Help request"),
    RequestType.COMPLAINT: Phrase("投诉", "Complaint"),
    RequestType.REPORT: Phrase("举报", "Report of wrongdoing"),
    RequestType.SUGGESTION: Phrase("建议", "Suggestion"),
}

STATUS_NAMES: dict[TicketStatus, Phrase] = {
    TicketStatus.RECEIVED: Phrase("已受理，待派单", "Received, awaiting dispatch"),
    TicketStatus.DISPATCHED: Phrase("已派单，待签收", "Dispatched, awaiting sign-for"),
    TicketStatus.RETURNED: Phrase("退回热线办，重新派单中", "Returned, being re-dispatched"),
    TicketStatus.IN_PROGRESS: Phrase("办理中", "In progress"),
    TicketStatus.RESOLVED: Phrase("已办结，待评价", "Answered, awaiting your rating"),
    TicketStatus.CLOSED: Phrase("已归档", "Closed"),
    TicketStatus.WITHDRAWN: Phrase("已撤回", "Withdrawn"),
    TicketStatus.MERGED: Phrase("已并单", "Merged"),
}


def request_type_name(kind: RequestType, lang: Language) -> str:
    return REQUEST_TYPE_NAMES[kind](lang)


def status_name(status: TicketStatus, lang: Language) -> str:
    return STATUS_NAMES[status](lang)


START = Phrase(
    "您好！这里是{hotline}。\n"
    "请直接发送文字描述您的诉求（咨询、求助、投诉、举报、建议均可），可附照片、位置。"
    "我们会立即给您工单编号，并在 {days} 个工作日内办结答复。\n\n"
    "个人信息说明：我们保存您的 Telegram 账号、您发送的诉求内容和附件；"
    "手机号仅在您主动分享时保存。这些信息只用于办理您的诉求，仅承办人员可见。"
    "如需留下联系电话，发送 /phone 后点击出现的“📱 分享我的手机号”按钮。\n\n"
    "发送 /help 查看全部命令，/lang 切换语言（English）。",
    "Hello! This is the {hotline}.\n"
    "Just write your request (a question, a request for help, a complaint, a report or a "
    "suggestion); photos and a location are welcome. You get a ticket number at once and an "
    "answer within {days} working days.\n\n"
    "Your data: we keep your Telegram account, the requests and files you send, and your phone "
    "number only if you choose to share it. They are used only to handle your requests and are "
    "seen only by the staff handling them. To leave your phone number, send /phone and tap the "
    '"📱 Share my phone number" button that appears.\n\n'
    "Send /help for all commands, /lang to switch to Chinese (中文).",
)

HELP = Phrase(
    "可用命令：\n"
    "直接发送文字 — 提交新的诉求\n"
    "发送照片、位置 — 附加到您最近的诉求；回复某条工单消息可附加到该工单\n"
    "/my — 我的工单\n"
    "/status 工单编号 — 查询工单进度，例如 /status 20261127-0001\n"
    "/phone — 留下联系电话：点击出现的“📱 分享我的手机号”按钮\n"
    "/lang — 切换语言 (English)\n"
    "/help — 本说明",
    "Commands:\n"
    "Write a text — submit a new request\n"
    "Send a photo or a location — added to your latest request; reply to a ticket's message "
    "to add it to that ticket\n"
    "/my — my tickets\n"
    "/status NUMBER — where a ticket stands, e.g. /status 20261127-0001\n"
    '/phone — leave your phone number: tap the "📱 Share my phone number" button that appears\n'
    "/lang — switch language (中文)\n"
    "/help — this help",
)

LANGUAGE_SET = Phrase("已切换为中文。", "Language set to English.")

TICKET_RECEIVED = Phrase(
    "✅ 您的诉求已受理\n"
    "工单编号：{number}\n"
    "诉求类型：{kind}（可点击下方按钮更改）\n"
    "办理单位：{where}\n"
    "办结时限：{deadline} 前{estimated}\n"
    "可随时发送 /status {number} 查询进度。",
    "✅ Your request is registered\n"
    "Ticket number: {number}\n"
    "Type: {kind} (tap a button below to change it)\n"
    "Handled by: {where}\n"
    "Deadline: by {deadline}{estimated}\n"
    "Send /status {number} at any time to see where it stands.",
)
ESTIMATED_NOTE = Phrase(
    "（按预估节假日计算，以国务院公布为准）",
    " (estimated: next year's official holidays are not yet confirmed)",
)
DISPATCH_QUEUE = Phrase(
    "热线办（正在分派至承办单位）", "the hotline office (choosing the department)"
)
TYPE_CHANGED = Phrase("诉求类型已改为：{kind}", "Type changed to: {kind}")
TYPE_UNCHANGED = Phrase("诉求类型已是：{kind}", "The type already is: {kind}")
TYPE_LOCKED = Phrase(
    "工单 {number} 已{status}，不能再更改类型。",
    "Ticket {number} is {status}; its type is settled.",
)

ATTACHED = Phrase("📎 已附加到工单 {number}。", "📎 Added to ticket {number}.")
ATTACHED_LOCATION = Phrase(
    "📍 位置已附加到工单 {number}。", "📍 Location added to ticket {number}."
)
HELD_FOR_NEXT = Phrase(
    "📎 已收到。请再用文字描述您的诉求，收到的{what}会一并附在新工单上。",
    "📎 Received. Now please describe your request in words; the {what} will be attached to it.",
)
PHONE_SAVED = Phrase(
    "📞 已保存您的联系电话 {phone}，仅承办人员在需要联系您时可见。",
    "📞 Your phone number {phone} is saved; only the staff handling your requests can see it.",
)
PHONE_NOT_YOURS = Phrase(
    "为保护个人信息，只能分享您本人的号码，不能发送他人的名片。请点击下方“{button}”按钮。",
    "To protect personal data, only your own number can be shared, not someone else's contact "
    'card. Please tap the "{button}" button below.',
)
ASK_PHONE = Phrase(
    "如需承办人员打电话联系您，请点击下方“{button}”按钮，分享您本人 Telegram 账号的手机号。"
    "号码仅承办人员在需要联系您时可见。",
    'If you would like the staff to call you, tap the "{button}" button below to share the phone '
    "number of your Telegram account. Only the staff handling your requests can see it.",
)
BUTTON_SHARE_PHONE = Phrase("📱 分享我的手机号", "📱 Share my phone number")
WHAT_PHOTO = Phrase("照片", "photo")
WHAT_FILE = Phrase("文件", "file")
WHAT_LOCATION = Phrase("位置", "location")
WHAT_MEDIA = Phrase("语音/视频", "voice or video")

EMPTY_MESSAGE = Phrase(
    "没有收到文字内容。请用文字描述您的诉求，例如：“XX村路灯坏了，晚上出行不便”。",
    "The message has no text. Please describe your request in words, for example: "
    '"The street light in X village is broken."',
)
TOO_LONG = Phrase(
    "消息过长（{length} 字），单条诉求请不超过 {limit} 字。请精简后重新发送，或分几条发送。",
    "The message is too long ({length} characters); a request can have at most {limit}. "
    "Please shorten it or send it in parts.",
)
CAPTION_TOO_LONG = Phrase(
    "{what}的说明文字过长（{length} 字），请不超过 {limit} 字。本条未保存：请精简说明后重新发送，"
    "或先发送{what}，再分几条发送文字。",
    "The caption of this {what} is too long ({length} characters); it can have at most {limit}. "
    "Nothing was saved: please send it again with a shorter caption, or send the {what} and then "
    "the words in parts.",
)
UNSUPPORTED = Phrase(
    "抱歉，{what}无法作为诉求受理。请用文字描述您的诉求，可附照片或位置。",
    "Sorry, a {what} cannot be taken as a request. Please describe it in words; photos and a "
    "location are welcome.",
)
WHAT_STICKER = Phrase("贴纸", "sticker")
WHAT_OTHER = Phrase("这类消息", "message of this kind")
UNKNOWN_COMMAND = Phrase(
    "未知命令 {command}。发送 /help 查看可用命令；直接发送文字即可提交诉求。",
    "Unknown command {command}. Send /help for the commands, or just write your request.",
)
GROUP_ONLY_STAFF = Phrase(
    "此群的命令仅供热线工作人员使用。群众请私聊本机器人提交诉求。",
    "Commands in this group are for hotline staff. Citizens, please write to the bot privately.",
)
EDIT_NOT_APPLIED = Phrase(
    "您修改了已发送的消息，修改不会自动更新工单。如需补充，请回复工单消息发送补充内容。",
    "You edited a message you had sent; edits do not change the ticket. To add details, reply "
    "to the ticket's message.",
)

MY_TICKETS_NONE = Phrase(
    "您还没有工单。直接发送文字即可提交诉求。",
    "You have no tickets yet. Just write your request to submit one.",
)
MY_TICKETS_HEADER = Phrase("您的工单（最近 {count} 件）：", "Your tickets (latest {count}):")
MY_TICKETS_LINE = Phrase(
    "{number} · {kind} · {status} · 时限 {deadline}",
    "{number} · {kind} · {status} · due {deadline}",
)
STATUS_USAGE = Phrase(
    "请附上工单编号，例如：/status 20261127-0001",
    "Add the ticket number, e.g. /status 20261127-0001",
)
STATUS_NOT_FOUND = Phrase(
    "没有找到您的工单 {number}。请核对编号，或发送 /my 查看您的工单。",
    "No ticket {number} of yours was found. Check the number, or send /my to list your tickets.",
)
TICKET_STATUS = Phrase(
    "工单 {number}\n类型：{kind}\n状态：{status}\n办理单位：{where}\n受理时间：{received}\n"
    "办结时限：{deadline}{estimated}\n内容：{text}",
    "Ticket {number}\nType: {kind}\nStatus: {status}\nHandled by: {where}\nReceived: {received}\n"
    "Deadline: {deadline}{estimated}\nRequest: {text}",
)

BUTTON_INVALID = Phrase(
    "该按钮已失效或无法识别，请重新操作。", "This button is no longer valid; please try again."
)
BUTTON_NOT_YOURS = Phrase("这不是您的工单，无法操作。", "This is not your ticket.")
SOMETHING_WENT_WRONG = Phrase(
    "抱歉，系统出错，这条消息未能处理，工作人员会查看日志。请稍后重试，或换一种方式描述。",
    "Sorry, something went wrong on our side and this message was not handled; the staff will "
    "look into it. Please try again in a moment.",
)


# -- staff: the ticket card ---------------------------------------------------------------------

CARD = Phrase(
    "📋 工单 {number}{urgent}\n"
    "类型：{kind}　状态：{status}\n"
    "承办单位：{department}{signer}\n"
    "受理时间：{received}\n"
    "办结时限：{deadline}（{left}）{estimated}\n"
    "诉求人电话：{phone}{location}{attachments}\n"
    "────────\n{text}",
    "📋 Ticket {number}{urgent}\n"
    "Type: {kind}  Status: {status}\n"
    "Department: {department}{signer}\n"
    "Received: {received}\n"
    "Deadline: {deadline} ({left}){estimated}\n"
    "Citizen's phone: {phone}{location}{attachments}\n"
    "────────\n{text}",
)
CARD_URGENT = Phrase(" ⚡紧急", " ⚡URGENT")
CARD_SIGNER = Phrase("　签收人：{name}", "  signed for by {name}")
CARD_LOCATION = Phrase("\n位置：{lat:.5f}, {lon:.5f}", "\nLocation: {lat:.5f}, {lon:.5f}")
CARD_ATTACHMENTS = Phrase("\n附件：{count} 个（见下方）", "\nAttachments: {count} (below)")
CARD_NO_PHONE = Phrase("未提供", "not shared")
CARD_MOVED_AWAY = Phrase(
    "\n（此工单已不在本单位）", "\n(This ticket is no longer with this department.)"
)
CARD_SUPERSEDED = Phrase(
    "\n\n⛔ 此卡片已失效：本工单已发出新卡片，请在新卡片上办理和回复。",
    "\n\n⛔ This card is out of date: the ticket has a new card; work and reply there.",
)
DAYS_LEFT = Phrase("剩余 {days} 个工作日", "{days} working days left")
DUE_TODAY = Phrase("今天到期", "due today")
DAYS_OVERDUE = Phrase("已超期 {days} 个工作日", "{days} working days overdue")
HOURS_LEFT = Phrase("剩余约 {hours} 小时", "about {hours} hours left")
HOURS_OVERDUE = Phrase("已超时", "overdue")
ANSWERED_IN_TIME = Phrase("已按时办结", "answered in time")
ANSWERED_LATE = Phrase("已超期办结", "answered late")
DEADLINE_STOPPED = Phrase("不再计时", "no longer counted")
ESTIMATED_SHORT = Phrase("【预估】", " [estimated]")
TEXT_CUT = Phrase(
    "\n…（全文共 {length} 字，见下一条消息）", "\n… ({length} characters; full text below)"
)
FULL_TEXT = Phrase("工单 {number} 全文：\n{text}", "Ticket {number}, full text:\n{text}")

BUTTON_SIGN = Phrase("✅ 签收", "✅ Sign for")
BUTTON_RETURN = Phrase("↩️ 退回", "↩️ Return")
BUTTON_EXTEND = Phrase("⏳ 申请延期", "⏳ Ask for more time")
BUTTON_RESOLVE = Phrase("📝 办结", "📝 Resolve")
BUTTON_CONTACT = Phrase("📞 显示联系电话", "📞 Show phone")
BUTTON_CONTACTED = Phrase("☎️ 已联系群众", "☎️ Citizen contacted")
CONTACT_RECORDED = Phrase(
    "已记录：工单 {number} 已联系群众（{time}）。",
    "Recorded: ticket {number}, citizen contacted ({time}).",
)
CONTACT_ALREADY = Phrase(
    "工单 {number} 已于 {time} 联系过群众，已记录。",
    "Ticket {number}: the citizen was already contacted at {time}; it is recorded.",
)
BUTTON_OTHER_DEPARTMENT = Phrase("其他单位…", "Other department…")
BUTTON_APPROVE = Phrase("✅ 批准", "✅ Approve")
BUTTON_REJECT = Phrase("❌ 驳回", "❌ Reject")

LIST_HEADER = Phrase(
    "🗂 新工单 {count} 件（来单较多，合并为一条消息）。点下方序号打开工单办理：",
    "🗂 {count} new tickets (many at once, so listed in one message). "
    "Tap a number below to open a ticket:",
)
LIST_LINE = Phrase(
    "{number}{urgent}（{kind}）时限 {deadline}：{text}",
    "{number}{urgent} ({kind}) due {deadline}: {text}",
)
LIST_WAITING_DISPATCH = Phrase("【待派单】", "[to dispatch] ")
NO_RIGHTS = Phrase("您无权操作此工单。", "You may not act on this ticket.")
STAFF_ONLY = Phrase("此操作仅限热线工作人员。", "This is for hotline staff only.")
SUPERVISOR_ONLY = Phrase("此操作仅限热线办督办人员。", "This is for hotline supervisors only.")
MOVE_REFUSED = Phrase(
    "工单 {number} 当前状态为“{status}”，不能{action}。",
    "Ticket {number} is {status}: it cannot be {action} now.",
)
ACTION_NAMES: dict[str, Phrase] = {
    "dispatch": Phrase("派单", "dispatched"),
    "sign": Phrase("签收", "signed for"),
    "return": Phrase("退回", "returned"),
    "extend": Phrase("延期", "extended"),
    "resolve": Phrase("办结", "resolved"),
    "reopen": Phrase("重办", "re-opened"),
    "close": Phrase("归档", "closed"),
    "withdraw": Phrase("撤回", "withdrawn"),
    "merge": Phrase("并单", "merged"),
    "urge": Phrase("催办", "chased"),
}
TICKET_NOT_FOUND = Phrase("没有找到工单 {number}。", "No ticket {number}.")

SIGNED = Phrase("已签收工单 {number}。", "Ticket {number} signed for.")
CITIZEN_SIGNED = Phrase(
    "📌 您的工单 {number} 已由{department}签收办理，办结时限 {deadline}。",
    "📌 Your ticket {number} was signed for by {department}; deadline {deadline}.",
)
ASK_RETURN_REASON = Phrase(
    "↩️ 退回工单 {number}：请回复本消息，写明退回理由（如：不属于本单位职责，建议转XX）。",
    "↩️ Returning ticket {number}: reply to this message with the reason.",
)
ASK_EXTENSION = Phrase(
    "⏳ 工单 {number} 申请延期：请回复本消息，写明延期工作日数和理由，例如：5 需协调施工队。"
    "（最多 {max} 个工作日）",
    "⏳ More time for ticket {number}: reply to this message with the number of working days "
    'and the reason, e.g. "5 waiting for the contractor" (at most {max}).',
)
ASK_ANSWER = Phrase(
    "📝 办结工单 {number}：请回复本消息，写下给群众的答复内容（将原文发给群众）。",
    "📝 Resolving ticket {number}: reply to this message with the answer for the citizen "
    "(it is sent to them as written).",
)
REPLY_PLACEHOLDER = Phrase("回复内容", "Your reply")
REASON_NEEDED = Phrase("请写明理由。", "Please give a reason.")
ANSWER_NEEDED = Phrase("答复内容不能为空。", "The answer cannot be empty.")
EXTENSION_USAGE = Phrase(
    "格式：工作日数 理由，例如：5 需协调施工队，或 五天 需协调施工队（1–{max} 个工作日）。",
    'Format: working days and reason, e.g. "5 waiting for the contractor" (1–{max}).',
)
EXTENSION_OVER_LIMIT = Phrase(
    "延期合计不能超过 {max} 个工作日（已批准 {used} 个）。",
    "Extensions may total at most {max} working days ({used} already approved).",
)
EXTENSION_PENDING = Phrase(
    "工单 {number} 已有待审批的延期申请。", "Ticket {number} already has an extension request."
)
EXTENSION_TOO_LATE = Phrase(
    "工单 {number} 已超过办结时限，不能再申请延期，请尽快办结。",
    "Ticket {number} is past its deadline: extensions must be asked for before it.",
)
EXTENSION_REQUESTED = Phrase(
    "已提交工单 {number} 的延期申请（{days} 个工作日），等待热线办审批。",
    "Extension of {days} working days for ticket {number} requested; waiting for the office.",
)
OFFICE_EXTENSION = Phrase(
    "⏳ 延期申请：工单 {number}（{department}）\n申请人：{name}\n延期：{days} 个工作日\n"
    "理由：{reason}\n当前时限：{deadline}，批准后：{new_deadline}",
    "⏳ Extension request: ticket {number} ({department})\nBy: {name}\nDays: {days}\n"
    "Reason: {reason}\nDeadline now: {deadline}; if approved: {new_deadline}",
)
EXTENSION_APPROVED = Phrase(
    "✅ 工单 {number} 延期 {days} 个工作日已批准，新时限 {deadline}。",
    "✅ Extension of ticket {number} by {days} working days approved; new deadline {deadline}.",
)
EXTENSION_REJECTED = Phrase(
    "❌ 工单 {number} 的延期申请未获批准，请按原时限 {deadline} 办结。",
    "❌ The extension of ticket {number} was not approved; the deadline stays {deadline}.",
)
EXTENSION_DECIDED = Phrase("该延期申请已处理。", "This request was already decided.")
CITIZEN_EXTENDED = Phrase(
    "⏳ 您的工单 {number} 办理时限延长至 {deadline}。理由：{reason}",
    "⏳ The deadline of your ticket {number} is extended to {deadline}. Reason: {reason}",
)
RETURN_TOO_LATE = Phrase(
    "工单 {number} 已超过退单时限（派单后 {days} 个工作日），请联系热线办改派。",
    "Ticket {number} can no longer be returned ({days} working days after dispatch); ask the "
    "office to re-dispatch it.",
)
RETURNED = Phrase(
    "已退回工单 {number}，热线办将重新派单。", "Ticket {number} returned to the office."
)
OFFICE_RETURNED = Phrase(
    "↩️ 工单 {number} 被{department}退回\n退回人：{name}\n理由：{reason}\n────────\n{text}\n"
    "请选择新的承办单位：",
    "↩️ Ticket {number} was returned by {department}\nBy: {name}\nReason: {reason}\n"
    "────────\n{text}\nChoose the new department:",
)
RESOLVED = Phrase(
    "工单 {number} 已办结，答复已发送给群众。", "Ticket {number} resolved; the answer was sent."
)
CITIZEN_ANSWER = Phrase(
    "📝 您的工单 {number} 已办结。\n{department}答复：\n{answer}\n\n"
    "问题是否已解决？请点选（第一行），并对本次办理进行评价（第二行）：",
    "📝 Your ticket {number} is resolved.\nAnswer from {department}:\n{answer}\n\n"
    "Is your problem solved? Tap one (first row), and rate how it was handled (second row):",
)
RELAY_TO_CITIZEN = Phrase(
    "💬 {department}（工单 {number}）：\n{text}\n\n（回复本消息即可继续补充）",
    "💬 {department} (ticket {number}):\n{text}\n\n(Reply to this message to answer.)",
)
RELAY_TO_STAFF = Phrase(
    "💬 群众补充（工单 {number}）：\n{text}\n（回复本消息可直接答复群众）",
    "💬 The citizen adds (ticket {number}):\n{text}\n(Reply to this message to answer them.)",
)
RELAY_MEDIA_TO_STAFF = Phrase(
    "💬 群众补充（工单 {number}）\n（回复本消息可直接答复群众）",
    "💬 The citizen adds (ticket {number})\n(Reply to this message to answer them.)",
)
RELAYED = Phrase("已发送给群众。", "Sent to the citizen.")
CITIZEN_GONE = Phrase(
    "已记录，但群众已停用本机器人，消息可能无法送达。",
    "Recorded, but the citizen has blocked the bot; it may not reach them.",
)
ADDED_TO_TICKET = Phrase(
    "💬 已补充到工单 {number}，已转给承办人员。",
    "💬 Added to ticket {number} and passed on to the staff.",
)
REPLY_USAGE = Phrase("格式：/reply 工单编号 内容", "Usage: /reply NUMBER text")
CONTACT_SHOWN = Phrase(
    "诉求人电话：{phone}（已记录查看人）", "Citizen's phone: {phone} (your view is logged)"
)
CONTACT_NONE = Phrase("诉求人未提供电话。", "The citizen shared no phone number.")

QUEUE_EMPTY = Phrase("目前没有待办工单。", "No open tickets.")
QUEUE_HEADER = Phrase("待办工单（按时限排序，{count} 件）：", "Open tickets by deadline ({count}):")
QUEUE_LINE = Phrase(
    "{number} · {status} · {deadline}（{left}）· {text}",
    "{number} · {status} · {deadline} ({left}) · {text}",
)
OVERDUE_NONE = Phrase("目前没有超期工单。👍", "No overdue tickets. 👍")
OVERDUE_HEADER = Phrase("超期工单（{count} 件）：", "Overdue tickets ({count}):")
AND_MORE = Phrase("……另有 {count} 件", "… and {count} more")
OVERDUE_LINE = Phrase(
    "{number} · {department} · {status} · 时限 {deadline}（{left}）",
    "{number} · {department} · {status} · due {deadline} ({left})",
)
CHAT_ID = Phrase(
    "本群 chat id：{chat_id}\n运维人员可执行：hotline department set-chat 单位代码 {chat_id}",
    "This chat's id: {chat_id}\nOperators: hotline department set-chat CODE {chat_id}",
)
STAFF_HELP = Phrase(
    "工作人员命令：\n/queue — 本单位待办工单\n/reply 工单编号 内容 — 答复群众\n"
    "回复工单卡片 — 答复群众；卡片按钮：签收、退回、申请延期、办结\n/chatid — 本群 chat id\n"
    "/desk — 网页工作台登录链接",
    "Staff commands:\n/queue — your department's open tickets\n/reply NUMBER text — answer the "
    "citizen\nReply to a ticket card — answer the citizen; card buttons: sign for, return, more "
    "time, resolve\n/chatid — this chat's id\n/desk — a sign-in link to the web desk",
)
SUPERVISOR_HELP = Phrase(
    "督办命令：\n/queue — 待派单工单\n/overdue — 超期工单\n"
    "/dispatch 工单编号 [单位代码] — 派单/改派\n"
    "/urgent 工单编号 — 标记紧急\n/nudge 工单编号 [内容] — 催办\n/invite 单位代码 — 邀请工作人员\n"
    "/similar — 相似诉求（并单候选）\n/stats [时段] — 统计\n/export [时段] — 导出 Excel\n"
    "/ranking [时段] — 考评红黑榜\n/briefing [时段] — 通报",
    "Supervisor commands:\n/queue — tickets awaiting dispatch\n/overdue — overdue tickets\n"
    "/dispatch NUMBER [CODE] — dispatch/re-dispatch\n/urgent NUMBER — mark urgent\n"
    "/nudge NUMBER [text] — chase "
    "the department\n/invite CODE — invite staff\n/similar — similar requests (merge candidates)\n"
    "/stats [period] — statistics\n/export [period] — Excel export\n"
    "/ranking [period] — ranking (red and black lists)\n/briefing [period] — briefing",
)

# -- the command menu (setMyCommands; handlers.menu) --------------------------------------------
# Short: Telegram shows them beside each command in the "/" menu.

MENU_START = Phrase("开始 · 服务说明", "Start · what this hotline does")
MENU_MY = Phrase("我的工单", "My tickets")
MENU_STATUS = Phrase("查询工单进度（/status 工单编号）", "Where a ticket stands (/status NUMBER)")
MENU_PHONE = Phrase("留下联系电话", "Leave a phone number")
MENU_LANG = Phrase("切换语言 (English)", "Switch language (中文)")
MENU_HELP = Phrase("使用说明", "Help")
MENU_QUEUE = Phrase("本单位待办工单", "Your department's open tickets")
MENU_REPLY = Phrase("答复群众（/reply 工单编号 内容）", "Answer the citizen (/reply NUMBER text)")
MENU_CHATID = Phrase("本群 chat id", "This chat's id")
MENU_OFFICE_QUEUE = Phrase("待派单工单", "Tickets awaiting dispatch")
MENU_OVERDUE = Phrase("超期工单", "Overdue tickets")
MENU_DISPATCH = Phrase("派单/改派（工单编号 [单位代码]）", "Dispatch/re-dispatch (NUMBER [CODE])")
MENU_URGENT = Phrase("标记紧急（工单编号）", "Mark urgent (NUMBER)")
MENU_NUDGE = Phrase("催办（工单编号 [内容]）", "Chase the department (NUMBER [text])")
MENU_INVITE = Phrase("邀请工作人员（单位代码）", "Invite staff (CODE)")
MENU_DEPARTMENTS = Phrase("承办单位列表", "Departments")
MENU_SIMILAR = Phrase("相似诉求（并单候选）", "Similar requests (merge candidates)")
MENU_STATS = Phrase("统计（[时段]）", "Statistics ([period])")
MENU_EXPORT = Phrase("导出 Excel（[时段]）", "Excel export ([period])")
MENU_KB = Phrase("查知识库（/kb 关键词）", "Search the knowledge base (/kb words)")
MENU_KB_ADD = Phrase(
    "新增知识（问题 | 答复 [| 单位代码]）", "Add an entry (question | answer [| CODE])"
)
MENU_KB_EDIT = Phrase("修改知识（ID 答复）", "Edit an entry (ID answer)")
MENU_KB_OFF = Phrase("停用知识（ID）", "Retire an entry (ID)")
MENU_KB_STATS = Phrase("直接答复统计（[时段]）", "Direct-answer figures ([period])")
MENU_RANKING = Phrase("红黑榜（[时段]）", "Ranking of units ([period])")
MENU_BRIEFING = Phrase("通报（[时段]）", "Briefing ([period])")

# -- dispatching ---------------------------------------------------------------------------------

OFFICE_DISPATCH = Phrase(
    "📥 待派单：工单 {number}（{kind}）\n受理：{received}　时限：{deadline}\n────────\n{text}\n"
    "────────\n{suggestion}",
    "📥 To dispatch: ticket {number} ({kind})\nReceived: {received}  Deadline: {deadline}\n"
    "────────\n{text}\n────────\n{suggestion}",
)
SUGGESTED = Phrase(
    "系统建议（把握度 {confidence:.0%}）：{departments}",
    "Suggested (confidence {confidence:.0%}): {departments}",
)
NO_SUGGESTION = Phrase(
    "系统无法从内容判断承办单位，最常办理的单位：{departments}",
    "The text does not say which department; the most frequent ones: {departments}",
)
NAME_SEPARATOR = Phrase("、", ", ")
OFFICE_PICK_ANY = Phrase(
    "请选择承办单位（工单 {number}）：", "Choose the department (ticket {number}):"
)
DISPATCHED = Phrase(
    "工单 {number} 已派至{department}。", "Ticket {number} dispatched to {department}."
)
CITIZEN_DISPATCHED = Phrase(
    "📮 您的工单 {number} 已转至{department}办理。",
    "📮 Your ticket {number} is now with {department}.",
)
NO_DEPARTMENT_CHAT = Phrase(
    "⚠️ {department}尚未绑定工作群，也没有工作人员，工单 {number} 的卡片发到热线办。",
    "⚠️ {department} has no chat and no staff: the card of ticket {number} comes to the office.",
)
GROUP_UNREACHABLE = Phrase(
    "⚠️ 无法向{where}发送消息（{reason}），工单 {number} 的消息未送达。请把机器人加回该群，"
    "或重新绑定（hotline department set-chat / hotline office set-chat）；该工单可重新派单。",
    "⚠️ Messages to {where} cannot be delivered ({reason}); ticket {number}'s did not arrive. "
    "Add the bot back to that chat or bind another (hotline department set-chat / hotline "
    "office set-chat); the ticket can be re-dispatched.",
)
GROUP_UNREACHABLE_WHERE = Phrase("{department}的工作群", "the chat of {department}")
OFFICE_CHAT_NAME = Phrase("热线办的群", "the office chat")
FAILED_TO_PERSON = Phrase("个人私聊", "a person's private chat")
MESSAGE_FAILED = Phrase(
    "⚠️ 工单 {number} 发往{where}的一条消息因程序错误未能发出（{error}），已搁置，不再重试。"
    "请手工告知对方，并请技术人员查看日志。",
    "⚠️ A message of ticket {number} to {where} could not be sent because of a program error "
    "({error}); it is set aside and not retried. Please tell them by hand and ask the technical "
    "staff to check the log.",
)
UNKNOWN_DEPARTMENT = Phrase("没有代码为 {code} 的承办单位。", "No department with code {code}.")
UNKNOWN_DEPARTMENT_PICK = Phrase(
    "没有代码为 {code} 的承办单位，请从下面的列表中选择。",
    "No department with code {code}; choose one from the list below.",
)
DISPATCH_USAGE = Phrase("格式：/dispatch 工单编号 [单位代码]", "Usage: /dispatch NUMBER [CODE]")
MARKED_URGENT = Phrase(
    "⚡ 工单 {number} 已标记为紧急，办结时限提前至 {deadline}。",
    "⚡ Ticket {number} is urgent now; deadline {deadline}.",
)
NUDGE = Phrase(
    "⏰ 催办：热线办请尽快办理工单 {number}（时限 {deadline}，{left}）。{text}",
    "⏰ Reminder from the office: please handle ticket {number} (deadline {deadline}, {left}). "
    "{text}",
)
NUDGED = Phrase("已向承办单位发送催办。", "The department was reminded.")
NUMBER_USAGE = Phrase(
    "请附上工单编号，例如：/{command} 20261127-0001",
    "Add the ticket number, e.g. /{command} 20261127-0001",
)
INVITE_USAGE = Phrase(
    "格式：/invite 单位代码（发送 /departments 查看代码）", "Usage: /invite CODE (see /departments)"
)
INVITE_LINK = Phrase(
    "邀请链接（{department}，一次有效，{days} 天内）：\n{link}",
    "Invite link ({department}; one use, valid {days} days):\n{link}",
)
INVITE_INVALID = Phrase(
    "该邀请链接无效、已被使用或已过期，请向热线办索取新的链接。",
    "This invite link is invalid, used or expired; ask the office for a new one.",
)
INVITE_ACCEPTED = Phrase(
    "欢迎！您已成为{department}的工作人员。工单卡片将发到本单位工作群（未绑定时发到这里）。"
    "发送 /queue 查看待办。",
    "Welcome! You are now staff of {department}. Ticket cards go to your department's chat (or "
    "here if it has none). Send /queue for open tickets.",
)
DEPARTMENTS_LIST = Phrase("承办单位代码：\n{lines}", "Department codes:\n{lines}")

# -- repeat requests and follow-ups ----------------------------------------------------------------

ASK_SAME_REQUEST = Phrase(
    "这条消息和您的工单 {number}（“{text}”）说的是同一件事吗？",
    'Is this message about the same matter as your ticket {number} ("{text}")?',
)
ASK_ADD_OR_NEW = Phrase(
    "您有未办结的工单 {number}（“{text}”）。这条消息是：",
    'You have an open ticket {number} ("{text}"). This message is:',
)
BUTTON_SAME_YES = Phrase("是，补充到该工单", "Yes, add it to that ticket")
BUTTON_SAME_NO = Phrase("否，作为新诉求", "No, a new request")
BUTTON_ADD = Phrase("补充到工单 {number}", "More on ticket {number}")
BUTTON_NEW = Phrase("新的诉求", "A new request")
HELD_ADDED = Phrase("已补充到工单 {number}。", "Added to ticket {number}.")
HELD_OPENED = Phrase(
    "已作为新诉求受理，工单 {number}。", "Taken as a new request: ticket {number}."
)
HELD_ALREADY_DECIDED = Phrase("这条消息已经处理过了。", "That message was already taken care of.")
HELD_TIMED_OUT = Phrase(
    "您没有选择，我们已将您 {minutes} 分钟前的消息作为新诉求受理：",
    "You did not choose, so your message of {minutes} minutes ago became a new request:",
)
SIMILAR_NONE = Phrase("目前没有相似的未办结诉求。", "No similar open requests right now.")
SIMILAR_HEADER = Phrase(
    "相似诉求（并单候选，{count} 组）：",
    "Similar open requests (merge candidates, {count} groups):",
)

# -- 回访 -----------------------------------------------------------------------------------------

RATING_NAMES = {
    "satisfied": Phrase("满意", "Satisfied"),
    "basic": Phrase("基本满意", "Mostly satisfied"),
    "unsatisfied": Phrase("不满意", "Not satisfied"),
}
SOLVED_NAMES = {
    "1": Phrase("已解决", "Solved"),
    "0": Phrase("未解决", "Not solved"),
}
ALREADY_ANSWERED_SOLVED = Phrase(
    "您已回答过问题是否解决，已记录。", "You already said whether it is solved; it is recorded."
)
UNSOLVED_REOPENED = Phrase(
    "很抱歉问题仍未解决。工单 {number} 已重新交{department}办理，新的办结时限 {deadline}。"
    "可回复本消息说明情况。",
    "We are sorry the problem is not solved. Ticket {number} goes back to {department} to be "
    "handled again; new deadline {deadline}. Reply to this message to tell us more.",
)
UNSOLVED_NOTED = Phrase(
    "已记录：问题未解决。可回复本消息说明情况。",
    "Recorded: not solved. Reply to this message to tell us more.",
)
REOPEN_LIMIT_CITIZEN = Phrase(
    "很抱歉。工单 {number} 已多次重办，现已转热线办直接跟进，工作人员会与您联系。"
    "可回复本消息说明情况。",
    "We are sorry. Ticket {number} has been handled again several times; the hotline office "
    "now follows it up itself and will contact you. Reply to this message to tell us more.",
)
OFFICE_REOPEN_LIMIT = Phrase(
    "⚠ 重办已达上限：工单 {number}（{department}）已重办 {count} 次，群众仍{what}。"
    "未再退回承办单位，请热线办跟进。",
    "⚠ Re-open limit reached: ticket {number} ({department}) has been re-opened {count} times "
    "and the citizen is still {what}. Not sent back to the department: please follow it up.",
)
OFFICE_UNSOLVED_WHAT = Phrase("表示问题未解决", "saying it is not solved")
OFFICE_UNSATISFIED_WHAT = Phrase("不满意", "not satisfied")
OFFICE_REOPENED_UNSOLVED = Phrase(
    "🔁 重办：工单 {number} 群众表示问题未解决，已退回{department}重新办理，新时限 {deadline}。",
    "🔁 Re-opened: the citizen says ticket {number} is not solved; back to {department}, new "
    "deadline {deadline}.",
)
RATED = Phrase(
    "感谢您的评价（{rating}）。如有意见，可回复本消息补充。",
    "Thank you for your rating ({rating}). Reply to this message to add a comment.",
)
RATED_REOPENED = Phrase(
    "很抱歉没有让您满意。工单 {number} 已重新交{department}办理，新的办结时限 {deadline}。"
    "可回复本消息说明不满意的原因。",
    "We are sorry. Ticket {number} goes back to {department} to be handled again; new deadline "
    "{deadline}. Reply to this message to tell us why.",
)
ALREADY_RATED = Phrase(
    "您已评价过本次办理，评价已记录。", "You already rated this answer; it is recorded."
)
COMMENT_SAVED = Phrase("您的意见已记录，谢谢。", "Your comment is recorded. Thank you.")
REASON_PASSED_ON = Phrase(
    "您的意见已记录，并已转给工单 {number} 的承办单位和热线办，谢谢。",
    "Your comment is recorded and passed on to the department handling ticket {number} and to "
    "the hotline office. Thank you.",
)
UNSATISFIED_REASON_TO_STAFF = Phrase(
    "🔁 群众不满意的原因（工单 {number}）：\n{text}\n（回复本消息可直接答复群众）",
    "🔁 Why the citizen is not satisfied (ticket {number}):\n{text}\n"
    "(Reply to this message to answer them.)",
)
UNSATISFIED_REASON_TO_OFFICE = Phrase(
    "🔁 重办：工单 {number}（{department}）群众不满意的原因：\n{text}",
    "🔁 Re-opened: why the citizen is not satisfied with ticket {number} ({department}):\n{text}",
)
OFFICE_REOPENED = Phrase(
    "🔁 重办：工单 {number} 群众评价不满意，已退回{department}重新办理，新时限 {deadline}。",
    "🔁 Re-opened: the citizen is not satisfied with ticket {number}; back to {department}, new "
    "deadline {deadline}.",
)
ALREADY_THERE = Phrase(
    "工单 {number} 已在{department}。", "Ticket {number} is already with {department}."
)
EXTENSION_DECIDED_BY = Phrase("{verdict}（{name}）", "{verdict} ({name})")

# -- reminders (催办 / 督办) -------------------------------------------------------------------

REMIND_SIGN = Phrase(
    "⏰ 催办：以下工单派单后超过签收时限仍未签收，请尽快签收：",
    "⏰ Please sign for these tickets: the sign-for limit has passed:",
)
REMIND_SIGN_OFFICE = Phrase("⏰ 签收超时：以下工单尚未签收：", "⏰ Not signed for in time:")
REMIND_CONTACT = Phrase(
    "⏰ 催办：以下工单派单后超过先行联系时限仍未联系群众，请尽快联系（联系后点卡片上的"
    "“已联系群众”）：",
    "⏰ Please contact the citizens of these tickets: the first-contact limit has passed (press "
    "“Citizen contacted” on the card afterwards):",
)
REMIND_CONTACT_OFFICE = Phrase(
    "⏰ 响应超时：以下工单尚未联系群众：", "⏰ Citizen not contacted in time:"
)
REMIND_DUE_SOON = Phrase(
    "⏰ 催办：以下工单即将到期，请抓紧办理：", "⏰ These tickets are due soon:"
)
REMIND_DUE_TODAY = Phrase(
    "⏰ 催办：以下工单今天是办结时限的最后一个工作日：", "⏰ Today is the last working day for:"
)
REMIND_OVERDUE = Phrase(
    "🚨 督办：以下工单已超过办结时限：", "🚨 Overdue tickets (escalated to the office):"
)
REMIND_LINE = Phrase("{number} · {department} · {left}", "{number} · {department} · {left}")

# -- 质检 -----------------------------------------------------------------------------------------

QA_HEADER = Phrase(
    "🔍 质检抽样：{day} 办结 {total} 件，抽取 {count} 件，请逐件标记合格/不合格。",
    "🔍 Quality check: {total} tickets resolved on {day}, {count} sampled; mark each one.",
)
QA_ITEM = Phrase(
    "质检：工单 {number}（{department}）\n诉求：{text}\n答复：{answer}",
    "Check: ticket {number} ({department})\nRequest: {text}\nAnswer: {answer}",
)
BUTTON_QA_PASS = Phrase("合格", "Pass")
BUTTON_QA_FAIL = Phrase("不合格", "Fail")
ASK_QA_REASON = Phrase(
    "工单 {number} 质检不合格：请回复本消息说明原因。",
    "Ticket {number} fails the check: reply to this message with the reason.",
)
QA_PASSED = Phrase("✅ 质检合格（{name}）", "✅ Passed ({name})")
QA_FAILED = Phrase("❌ 质检不合格（{name}）：{reason}", "❌ Failed ({name}): {reason}")
QA_DONE_ALREADY = Phrase("该工单已质检。", "This ticket was already checked.")
QA_RECORDED = Phrase("已记录质检结果。", "The result is recorded.")

# -- statistics, digest, alerts ---------------------------------------------------------------

STATS_CAPTION = Phrase("统计图：{label}", "Chart: {label}")
EXPORT_CAPTION = Phrase("工单导出：{label}（电话已脱敏）", "Ticket export: {label} (phones masked)")
DIGEST_HEADER = Phrase("☀️ 每日简报", "☀️ Daily digest")
DIGEST_OVERDUE = Phrase("超期未办结（{count} 件）：", "Overdue and still open ({count}):")
DIGEST_NO_OVERDUE = Phrase("目前没有超期工单。", "No overdue tickets.")
METRIC_NAMES = {
    "on_time": Phrase("按时办结率", "on-time resolution rate"),
    "satisfaction": Phrase("满意率", "satisfaction rate"),
}
ALERT_BELOW = Phrase(
    "⚠️ 预警：{department}近 30 天{metric}为 {value}，低于目标 {target}。",
    "⚠️ Alert: {department}'s 30-day {metric} is {value}, below the {target} target.",
)
ALERT_RECOVERED = Phrase(
    "✅ 恢复：{department}近 30 天{metric}回升至 {value}（目标 {target}）。",
    "✅ Recovered: {department}'s 30-day {metric} is back to {value} (target {target}).",
)

# -- 直接答复: answers from the knowledge base --------------------------------------------------

DIRECT_ANSWER = Phrase(
    "💡 {answer}\n\n"
    "—— {department}（知识库答复）\n"
    "这个答复解决您的问题了吗？如仍需工作人员办理，请点“仍需人工办理”或直接补充说明；"
    "{minutes} 分钟内没有回复，视为已解决。",
    "💡 {answer}\n\n"
    "— {department} (from the knowledge base)\n"
    "Did this answer your question? If you still need a person to handle it, tap "
    '"Still need a person" or simply write more; with no word within {minutes} minutes it '
    "counts as answered.",
)
BUTTON_DIRECT_SOLVED = Phrase("已解决", "Solved")
BUTTON_DIRECT_HUMAN = Phrase("仍需人工办理", "Still need a person")
DIRECT_SOLVED = Phrase(
    "✓ 已解决，感谢您的反馈。记录编号 {number}。",
    "✓ Solved, thank you. Record number {number}.",
)
DIRECT_TIMED_OUT = Phrase(
    "（{minutes} 分钟内未回复，已按直接答复办结，记录编号 {number}。）",
    "(No word within {minutes} minutes: recorded as answered, record number {number}.)",
)
DIRECT_HANDED_OVER = Phrase(
    "（已转人工办理：工单 {number}。）", "(Handed to a person: ticket {number}.)"
)
DIRECT_ALREADY_DECIDED = Phrase(
    "这条答复已经处理过了（{number}）。", "This answer was already taken care of ({number})."
)
DIRECT_TO_PERSON = Phrase("好的，已转人工办理。", "All right, a person will handle it.")
CARD_ANSWER_GIVEN = Phrase(
    "\n\n💡 已直接答复（知识库 {entry}）：\n{answer}",
    "\n\n💡 Already answered from the knowledge base ({entry}):\n{answer}",
)
CARD_SIMILAR_ENTRIES = Phrase(
    "\n\n📚 相似知识库条目：\n{lines}", "\n\n📚 Similar knowledge base entries:\n{lines}"
)
CARD_SIMILAR_ANSWERS = Phrase(
    "\n\n📝 相似诉求的答复：\n{lines}", "\n\n📝 Answers to similar requests:\n{lines}"
)
CARD_SIMILAR_ANSWER_LINE = Phrase(
    "{number}（{score:.2f}）{answer}", "{number} ({score:.2f}) {answer}"
)
CARD_SIMILAR_LINE = Phrase("{entry}（{score:.2f}）{question}", "{entry} ({score:.2f}) {question}")

# -- 知识库 in Telegram: staff and supervisors ------------------------------------------------

BUTTON_ADD_TO_KB = Phrase("加入知识库", "Add to knowledge base")
KB_ADDED = Phrase(
    "📚 已加入知识库：条目 {entry}\n问题：{question}\n答复：{answer}\n"
    "回复本消息可修改问题（群众会怎么问）。",
    "📚 Added to the knowledge base: entry {entry}\nQuestion: {question}\nAnswer: {answer}\n"
    "Reply to this message to change the question (as citizens would ask it).",
)
KB_ALREADY_ADDED = Phrase(
    "工单 {number} 的答复已在知识库中：条目 {entry}。",
    "The answer of ticket {number} is already in the knowledge base: entry {entry}.",
)
KB_NO_ANSWER = Phrase(
    "工单 {number} 还没有答复，无法加入知识库。",
    "Ticket {number} has no answer yet to add to the knowledge base.",
)
KB_NOT_YOURS = Phrase(
    "只有本单位工作人员和热线办可以修改知识库条目 {entry}。",
    "Only the owning department's staff and the hotline office may change entry {entry}.",
)
KB_QUESTION_SET = Phrase(
    "✓ 条目 {entry} 的问题已改为：{question}", "✓ Entry {entry} now asks: {question}"
)
KB_QUESTION_EMPTY = Phrase(
    "问题不能为空，请回复要设定的问题文字。", "The question cannot be empty: reply with its words."
)
KB_SEARCH_USAGE = Phrase("用法：/kb 关键词或问题", "Usage: /kb words or a question")
KB_SEARCH_NONE = Phrase(
    "知识库中没有与“{text}”相近的条目。", 'No knowledge base entry comes near "{text}".'
)
KB_SEARCH_HEADER = Phrase("知识库（{count} 条相近）：", "Knowledge base ({count} close entries):")
KB_SEARCH_LINE = Phrase(
    "{entry}（{score:.2f}，{department}）{question}\n　{answer}",
    "{entry} ({score:.2f}, {department}) {question}\n  {answer}",
)
KB_ADD_USAGE = Phrase(
    "用法：/kb_add 问题 | 答复 [| 单位代码]", "Usage: /kb_add question | answer [| department code]"
)
KB_EDIT_USAGE = Phrase(
    "用法：/kb_edit 条目ID 新答复，或 /kb_edit 条目ID 问题 | 答复",
    "Usage: /kb_edit ID new answer, or /kb_edit ID question | answer",
)
KB_OFF_USAGE = Phrase("用法：/kb_off 条目ID", "Usage: /kb_off ID")
KB_NOT_FOUND = Phrase("知识库中没有条目 {entry}。", "There is no knowledge base entry {entry}.")
KB_BAD_DEPARTMENT = Phrase(
    "没有单位代码 {code}（见 /departments）。", "No department code {code} (see /departments)."
)
KB_SAVED = Phrase("✓ 条目 {entry} 已保存。", "✓ Entry {entry} saved.")
KB_UNCHANGED = Phrase("条目 {entry} 没有变化。", "Entry {entry} is unchanged.")
KB_TURNED_OFF = Phrase(
    "✓ 条目 {entry} 已停用，机器人不再用它答复。",
    "✓ Entry {entry} is off: the bot no longer answers with it.",
)
KB_HELP = Phrase(
    "\n/kb 关键词 — 查知识库\n/kb_add 问题 | 答复 — 新增条目\n/kb_edit 条目ID 答复 — 修改\n"
    "/kb_off 条目ID — 停用（本单位条目；热线办可改全部）\n"
    "/kb_stats [时段] — 直接答复统计（热线办）",
    "\n/kb words — search the knowledge base\n/kb_add question | answer — new entry\n"
    "/kb_edit ID answer — change it\n/kb_off ID — take it out of use (your department's "
    "entries; the office all)\n/kb_stats [period] — direct answer figures (the office)",
)
KB_STATS_HEADER = Phrase(
    "📚 知识库直接答复（{label}）", "📚 Knowledge base direct answers ({label})"
)
KB_STATS_RATES = Phrase(
    "直接答复率 {rate}（{answered}/{contacts} 个诉求）\n"
    "直接答复后转人工率 {handover}（{handed_over} 个）；待群众确认 {waiting} 个",
    "Direct answer rate {rate} ({answered}/{contacts} contacts)\n"
    "Handed to a person after a direct answer {handover} ({handed_over}); "
    "awaiting the citizen {waiting}",
)
KB_STATS_MOST_USED = Phrase(
    "最常用条目（已答复 / 转人工）：", "Most used entries (answered / handed over):"
)
KB_STATS_NEVER_USED = Phrase("未用过的条目 {count} 个：{entries}", "Never used: {count}: {entries}")
KB_STATS_UPDATES = Phrase("知识库更新次数：{updates}", "Knowledge base updates: {updates}")

# -- the web desk -------------------------------------------------------------------------------

DESK_LINK = Phrase(
    "🖥 工作台登录链接（{minutes} 分钟内有效，仅可使用一次，请勿转发）：\n{url}",
    "🖥 Your desk sign-in link (valid {minutes} minutes, works once; do not forward it):\n{url}",
)
DESK_NOT_SET_UP = Phrase(
    "网页工作台尚未开通（需要设置 HOTLINE_PUBLIC_URL），请联系管理员。",
    "The web desk is not set up (HOTLINE_PUBLIC_URL is needed); please ask the operator.",
)
DESK_PRIVATE_ONLY = Phrase(
    "登录链接只在私聊中发送：请私聊本机器人发送 /desk。",
    "Sign-in links are sent in a private chat only: send /desk to the bot privately.",
)

# -- 答复预检 (handlers.answer_review) and reusing an answer given before ---------------------

ANSWER_FLAGGED = Phrase(
    "⚠️ 答复预检（工单 {number}）：这条答复可能答非所问——\n{reasons}\n\n您的答复：\n{answer}\n\n"
    "按「仍然发送」照原样发给群众；或回复本消息，写下修改后的答复。",
    "⚠️ Answer check (ticket {number}): this answer may not answer the request —\n{reasons}\n\n"
    "Your answer:\n{answer}\n\n"
    "Press “Send anyway” to send it as it is, or reply to this message with a corrected answer.",
)
ANSWER_EMPTY = Phrase(
    "⚠️ 答复预检（工单 {number}）：答复没有文字内容，不能发给群众。请回复本消息，写下答复。",
    "⚠️ Answer check (ticket {number}): the answer has no words and cannot be sent. "
    "Reply to this message with the answer.",
)
ANSWER_FLAG_REASONS = {
    "too_short": Phrase(
        "· 过短：{chars} 字，这条诉求的答复至少应有 {needed} 字",
        "· Too short: {chars} characters; this request needs at least {needed}",
    ),
    "no_shared_term": Phrase(
        "· 与诉求没有共同的关键词：诉求说的事在答复里没有出现",
        "· No key term of the request appears in the answer",
    ),
    "template_only": Phrase(
        "· 只有套话（已收悉、感谢关注、尽快处理……），没有说明办理结果",
        "· Only set phrases (received, thank you, will handle it …): no result is given",
    ),
    "foreign_number": Phrase(
        "· 含有不是本单位的电话、身份证或银行卡号：{numbers}",
        "· Contains a number that is not the department's (phone, ID or card): {numbers}",
    ),
    "empty": Phrase("· 没有文字内容", "· No words"),
}
BUTTON_SEND_ANYWAY = Phrase("仍然发送", "Send anyway")
BUTTON_EDIT_ANSWER = Phrase("修改答复", "Edit the answer")
ASK_EDITED_ANSWER = Phrase(
    "✏️ 工单 {number}：请回复本消息，写下修改后的答复。原答复：\n{answer}",
    "✏️ Ticket {number}: reply to this message with the corrected answer. It was:\n{answer}",
)
ANSWER_SENT_ANYWAY = Phrase(
    "⚠️ 答复预检（工单 {number}）：\n{reasons}\n—— {name} 选择仍然发送。",
    "⚠️ Answer check (ticket {number}):\n{reasons}\n— {name} chose to send it anyway.",
)
ANSWER_CHECK_SETTLED = Phrase(
    "这条答复已处理过（已发送或已修改）。", "This answer was already sent or corrected."
)
BUTTON_REUSE = Phrase("📋 {key}", "📋 {key}")
ASK_ANSWER_DRAFT = Phrase(
    "📝 办结工单 {number}：以下答复（引自 {source}）作为开头——\n{draft}\n\n"
    "回复本消息：以 + 开头的内容接在它后面发送（只回 + 即原样发送）；不以 + 开头则整条替换它。",
    "📝 Resolving ticket {number}: this answer (from {source}) is the start —\n{draft}\n\n"
    "Reply to this message: text starting with + is added after it (+ alone sends it as it "
    "is); anything else replaces it.",
)
REUSE_GONE = Phrase(
    "这条参考答复已不可用（条目已停用或过期）。",
    "That answer is no longer available (the entry was switched off or expired).",
)
REUSE_NOT_NOW = Phrase(
    "工单 {number} 签收后才能办结。", "Ticket {number} must be signed for before it is resolved."
)
QA_PRECHECK = Phrase(
    "答复预检（{day}）：提示 {flagged} 次，仍然发送 {anyway} 件，修改后发送 {edited} 件。",
    "Answer check ({day}): {flagged} warnings, {anyway} sent anyway, {edited} corrected.",
)
QA_ITEM_SENT_ANYWAY = Phrase(
    "\n⚠️ 答复预检提示后仍然发送：{reasons}", "\n⚠️ Sent anyway after the answer check: {reasons}"
)
FLAG_NAMES = {
    "empty": Phrase("无内容", "no words"),
    "too_short": Phrase("过短", "too short"),
    "no_shared_term": Phrase("无共同关键词", "no shared key term"),
    "template_only": Phrase("只有套话", "only set phrases"),
    "foreign_number": Phrase("非本单位号码", "a number not the department's"),
}


def flag_names(flags: Iterable[str], lang: Language) -> str:
    """The answer pre-check's flags, named: "过短、无共同关键词" (unknown ones left out)."""
    return "、".join(FLAG_NAMES[f](lang) for f in flags if f in FLAG_NAMES)
