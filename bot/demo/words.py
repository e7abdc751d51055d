"""The demo page's own words, Chinese first and English second (what the bot says comes from
handlers/texts.py, in the language the visitor's "Telegram" reports)."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "title": ("12345 热线机器人演示", "12345 hotline bot demo"),
    "town": ("建塘镇", "Jiantang town"),
    "switch": ("English", "中文"),
    "intro": (
        "这里没有连接 Telegram：真实的机器人代码和数据库（临时 SQLite）在本机运行，"
        "对面是一个模拟的 Telegram 服务器。在左侧以群众身份提出诉求，"
        "在中间以承办人员身份、在右侧以热线办督办身份按下按钮；每条消息都来自机器人。",
        "No Telegram here: the real bot and its database (a temporary SQLite file) run on this "
        "machine against a stand-in Telegram server. Write a request as a citizen on the left, "
        "press the buttons as the department's staff in the middle and as the hotline office "
        "on the right; every message shown was sent by the bot.",
    ),
    "try": ("试试：", "Try:"),
    "pane_citizen": ("群众与机器人的私聊", "A citizen's private chat"),
    "pane_department": ("承办单位工作群", "The department's group"),
    "pane_office": ("热线办工作群", "The hotline office's group"),
    "you_are": ("你是", "You are"),
    "role_citizen": ("群众", "citizen"),
    "role_department": ("承办人员 · 村镇规划建设服务中心", "staff · Planning and Construction"),
    "role_office": ("热线办督办", "supervisor, hotline office"),
    "placeholder": ("输入消息……", "Write a message…"),
    "placeholder_citizen": ("描述您的诉求，例如哪里、什么问题……", "Describe your request…"),
    # In a group the bot reads only commands and replies to its messages (privacy mode).
    "placeholder_department": (
        "命令（如 /queue）或回复机器人的消息……",
        "A command (e.g. /queue) or a reply to the bot…",
    ),
    "placeholder_office": (
        "命令（如 /stats、/overdue）或回复机器人的消息……",
        "A command (e.g. /stats, /overdue) or a reply to the bot…",
    ),
    "send": ("发送", "Send"),
    "reply": ("回复", "Reply"),
    "replying": ("回复：", "Replying to:"),
    "cancel_reply": ("取消回复", "Cancel the reply"),
    "empty": ("还没有消息。", "No messages yet."),
    "edited": ("已编辑", "edited"),
    "bot": ("机器人", "bot"),
    "toast": ("按钮提示", "Button answer"),
    "photo": ("图片", "Photo"),
    "document": ("文件", "File"),
    "location": ("位置", "Location"),
    "contact": ("联系人", "Contact"),
    "share_location": ("📍 发送位置", "📍 Send a location"),
    "noscript": (
        "未启用 JavaScript：发送后页面会刷新，但不会自动显示机器人的新消息，请手动刷新。",
        "JavaScript is off: the page reloads after each action but does not show the bot's new "
        "messages by itself; reload it.",
    ),
    "bad_input": ("无法处理该操作，请刷新页面后重试。", "That could not be done; reload, retry."),
    "example_light": (
        "幸福路的路灯坏了一个星期了，晚上很黑",
        "The street light on Xingfu Road has been broken for a week",
    ),
    "example_water": (
        "村口的自来水管爆了，水一直在流",
        "The water pipe at the village entrance burst",
    ),
}
EXAMPLES = ("example_light", "example_water")


def word(key: str, lang: str) -> str:
    zh, en = WORDS[key]
    return en if lang == "en" else zh
