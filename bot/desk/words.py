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
    "kb_add": ("新增条目", "Add an entry"),
    "kb_edit": ("编辑", "Edit"),
    "kb_edit_title": ("编辑条目 {entry}", "Edit entry {entry}"),
    "kb_retire": ("停用", "Retire"),
    "kb_restore": ("恢复", "Restore"),
    "kb_retired": ("已停用", "Retired"),
    "kb_import": ("导入 CSV", "Import CSV"),
    "kb_import_hint": (
        "列：question、answer（必填），id、department、alternatives、keywords、valid_from、"
        "valid_until、active（选填）。有一行出错则整个文件不导入。",
        "Columns: question, answer (required); id, department, alternatives, keywords, "
        "valid_from, valid_until, active (optional). One bad row and nothing is imported.",
    ),
    "kb_export": ("导出 CSV", "Export CSV"),
    "kb_question": ("问题", "Question"),
    "kb_alternatives": ("其他问法（每行一个）", "Other phrasings (one a line)"),
    "kb_answer": ("答复", "Answer"),
    "kb_keywords": ("关键词（用逗号或顿号分隔）", "Keywords (separated by commas)"),
    "kb_department": ("所属单位", "Unit"),
    "kb_no_department": ("全镇通用", "Every unit"),
    "kb_valid_from": ("生效日期", "Valid from"),
    "kb_valid_until": ("失效日期", "Valid until"),
    "kb_save": ("保存", "Save"),
    "kb_saved": ("条目 {entry} 已保存。", "Entry {entry} saved."),
    "kb_unchanged": ("条目 {entry} 没有变化。", "Entry {entry} is unchanged."),
    "kb_retired_done": ("条目 {entry} 已停用。", "Entry {entry} is retired."),
    "kb_restored_done": ("条目 {entry} 已恢复使用。", "Entry {entry} is in use again."),
    "kb_not_yours": (
        "条目 {entry} 属于其他单位，您不能修改。",
        "Entry {entry} belongs to another unit; you cannot change it.",
    ),
    "kb_not_found": ("没有条目 {entry}。", "No entry {entry}."),
    "kb_exists": (
        "已有相同问题的条目 {entry}，请直接编辑它。",
        "Entry {entry} has this question already; edit it instead.",
    ),
    "kb_too_long": ("{field}不能超过 {limit} 个字。", "{field} may be at most {limit} characters."),
    "kb_bad_dates": (
        "日期无效，或失效日期早于生效日期。",
        "A date is invalid or ends before it starts.",
    ),
    "kb_imported": (
        "已导入 {name}：新增 {created} 条，更新 {updated} 条，未变 {unchanged} 条。",
        "Imported {name}: {created} new, {updated} updated, {unchanged} unchanged.",
    ),
    "kb_import_refused": (
        "{name} 未导入任何条目：{reason}",
        "Nothing of {name} imported: {reason}",
    ),
    "kb_import_not_text": ("文件不是 UTF-8 编码的 CSV。", "The file is not a UTF-8 CSV."),
    "kb_import_no_file": ("请选择要导入的 CSV 文件。", "Choose a CSV file to import."),
    "kb_import_other_unit": (
        "第 {line} 行：条目 {entry} 属于其他单位（{unit}），您只能导入本单位的条目",
        "line {line}: entry {entry} is of another unit ({unit}); you may import your own unit's",
    ),
    "too_large": ("文件太大（上限 {mb} MB）。", "The file is too large (at most {mb} MB)."),
    "history": ("修改记录", "History"),
    "ranking": ("考评排名", "Ranking"),
    "briefing": ("通报", "Briefing"),
    "period": ("时间段", "Period"),
    "period_hint": ("如 上月、2026-11、2026-Q4", "e.g. last-month, 2026-11, 2026-Q4"),
    "show_period": ("查看", "Show"),
    "compared_with": ("对比 {period}", "compared with {period}"),
    "weights": ("得分权重：{weights}", "Score weights: {weights}"),
    "rank": ("名次", "Rank"),
    "board": ("榜单", "List"),
    "red_list": ("红榜", "Red list"),
    "black_list": ("黑榜", "Black list"),
    "score": ("得分", "Score"),
    "change": ("较上期", "Change"),
    "new_entry": ("新上榜", "new"),
    "dispatches": ("派单数", "Dispatched"),
    "not_ranked": (
        "派单少于 {count} 件或无数据，不参与排名",
        "fewer than {count} dispatches or no figure: not ranked",
    ),
    "no_units": ("本期没有单位的数据。", "No unit has figures for this period."),
    "own_unit_only": (
        "承办人员只能看到本单位的考评结果；完整排名由热线办查看。",
        "Staff see their own unit's assessment; the office sees the whole ranking.",
    ),
    "supervisors_only": ("仅热线办可查看。", "For the hotline office only."),
    "download_docx": ("下载 Word 文档", "Download as Word"),
    "chart": ("近 30 天图表", "Last 30 days"),
    "direct_answers_today": ("今日直接答复", "Direct answers today"),
    "photo": ("照片", "Photo"),
    "photo_missing": ("照片暂时无法获取。", "The photo cannot be fetched now."),
    "xlsx": ("导出 Excel", "Export Excel"),
    "in_force": ("生效中", "In force"),
    "not_in_force": ("未生效", "Not in force"),
    "valid": ("有效期", "Valid"),
}

# The periods offered by the ranking's and the 通报's pickers (any ``hotline stats`` period
# may be typed as well).
PERIODS: tuple[tuple[str, str, str], ...] = (
    ("last-week", "上周", "Last week"),
    ("week", "本周", "This week"),
    ("last-month", "上月", "Last month"),
    ("month", "本月", "This month"),
    ("last-quarter", "上季度", "Last quarter"),
    ("quarter", "本季度", "This quarter"),
    ("last-year", "去年", "Last year"),
    ("year", "今年", "This year"),
)

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
}


def word(key: str, lang: str, **values: object) -> str:
    zh, en = WORDS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def event_word(action: str, lang: str) -> str:
    zh, en = EVENT_WORDS.get(action, (action, action))
    return en if lang == "en" else zh
