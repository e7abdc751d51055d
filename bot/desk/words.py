"""The desk's own words, Chinese first and English second (the bot's messages are in
handlers/texts.py; ticket statuses and request types are shared with it)."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "desk": ("热线工作台", "Hotline desk"),
    "today": ("今日", "Today"),
    "tickets": ("工单", "Tickets"),
    "sign_out": ("退出", "Sign out"),
    "switch": ("English", "中文"),
    "login_title": ("登录工作台", "Sign in to the desk"),
    "login_button": ("进入工作台", "Open the desk"),
    "login_how": (
        "请在 Telegram 中向本机器人私聊发送 /desk，获取一次性登录链接（10 分钟内有效）。",
        "Send /desk to the bot in a private Telegram chat for a one-time sign-in link "
        "(valid 10 minutes).",
    ),
    "login_refused": (
        "该登录链接无效、已过期或已使用。请重新发送 /desk 获取新链接。",
        "This sign-in link is invalid, expired or already used. Send /desk again for a new one.",
    ),
    "signed_out": ("您已退出工作台。", "You are signed out of the desk."),
    "not_staff": (
        "您已不是工作人员，会话已结束。",
        "You are no longer staff; your session has ended.",
    ),
    "forbidden": ("无权访问。", "You may not see this."),
    "not_found": ("未找到该工单。", "No such ticket."),
    "bad_form": ("表单已失效，请刷新页面后重试。", "The form expired; reload the page and retry."),
    "received_today": ("今日受理", "Received today"),
    "open": ("未办结", "Open"),
    "overdue": ("超期", "Overdue"),
    "due_this_week": ("本周到期", "Due this week"),
    "below_target": ("近 30 天低于目标的单位", "Units below target (30 days)"),
    "none_below": ("所有单位均达标。", "Every unit meets its targets."),
    "unit": ("承办单位", "Unit"),
    "all_units": ("全部单位", "All units"),
    "status": ("状态", "Status"),
    "any_status": ("全部状态", "Any status"),
    "open_only": ("未办结", "Open"),
    "type": ("类型", "Type"),
    "any_type": ("全部类型", "Any type"),
    "from": ("受理自", "Received from"),
    "to": ("至", "to"),
    "overdue_only": ("仅超期", "Overdue only"),
    "search": ("搜索", "Search"),
    "search_hint": ("工单编号或内容", "Number or text"),
    "filter": ("筛选", "Filter"),
    "csv": ("导出 CSV", "Export CSV"),
    "number": ("工单编号", "Number"),
    "received": ("受理时间", "Received"),
    "deadline": ("办结时限", "Deadline"),
    "text": ("诉求内容", "Request"),
    "no_tickets": ("没有符合条件的工单。", "No tickets match."),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "page": ("第 {page} 页", "Page {page}"),
    "timeline": ("办理过程", "Timeline"),
    "citizen": ("群众", "Citizen"),
    "phone": ("联系电话", "Phone"),
    "show": ("显示", "Show"),
    "no_phone": ("未留电话", "No phone"),
    "urgent": ("紧急", "Urgent"),
    "map": ("地图", "Map"),
    "actions": ("操作", "Actions"),
    "dispatch": ("派单", "Dispatch"),
    "sign": ("签收", "Sign for"),
    "return": ("退回", "Return"),
    "extend": ("申请延期", "Ask for more time"),
    "resolve": ("办结", "Resolve"),
    "reason": ("原因", "Reason"),
    "days": ("工作日数", "Working days"),
    "answer": ("答复内容", "Answer"),
    "precheck": (
        "答复预检：这条答复可能答非所问——",
        "Answer check: this answer may not answer the request —",
    ),
    "precheck_choice": (
        "修改后再提交，或勾选「仍然发送」照原样发给群众。",
        "Correct it and submit again, or tick “Send anyway” to send it as it is.",
    ),
    "send_anyway": ("仍然发送", "Send anyway"),
    "submit": ("提交", "Submit"),
    "no_actions": ("当前状态下没有可用操作。", "Nothing to do in this state."),
    "staff_role": ("承办人员", "Staff"),
    "supervisor_role": ("热线办", "Office"),
    "system_role": ("系统", "System"),
    "citizen_role": ("群众", "Citizen"),
    "form_incomplete": ("请填写完整。", "Please fill in every field."),
    "kb": ("知识库", "Knowledge base"),
    "kb_hint": ("问题、答案或关键词", "Question, answer or keyword"),
    "kb_none": ("没有符合条件的条目。", "No entries match."),
    "kb_readonly": (
        "条目的增改、停用与导入导出请使用 hotline kb 命令。",
        "Add, edit, retire, import and export entries with the hotline kb command.",
    ),
    "in_force": ("生效中", "In force"),
    "not_in_force": ("未生效", "Not in force"),
    "valid": ("有效期", "Valid"),
}

ROLE_WORDS = {
    "staff": "staff_role",
    "supervisor": "supervisor_role",
    "system": "system_role",
    "citizen": "citizen_role",
}

EVENT_WORDS: dict[str, tuple[str, str]] = {
    "received": ("受理", "received"),
    "dispatched": ("派单", "dispatched"),
    "signed": ("签收", "signed for"),
    "returned": ("退回", "returned"),
    "extension_requested": ("申请延期", "more time asked"),
    "extension_approved": ("延期批准", "extension approved"),
    "extension_rejected": ("延期驳回", "extension rejected"),
    "resolved": ("办结", "resolved"),
    "contact_viewed": ("查看电话", "phone shown"),
    "staff_message": ("答复群众", "message to the citizen"),
    "refused": ("操作被拒绝", "refused"),
    "answer_flagged": ("答复预检提示", "answer check warned"),
    "answer_sent_anyway": ("预检提示后仍然发送", "sent anyway after the answer check"),
    "answer_edited": ("预检提示后修改答复", "answer corrected after the check"),
    "answer_draft": ("引用以往答复", "answer started from a past one"),
}


def word(key: str, lang: str, **values: object) -> str:
    zh, en = WORDS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def event_word(action: str, lang: str) -> str:
    zh, en = EVENT_WORDS.get(action, (action, action))
    return en if lang == "en" else zh
