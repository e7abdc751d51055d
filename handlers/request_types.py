"""A first guess at a request's type (诉求类型); the citizen can change it with one tap."""

from __future__ import annotations

from handlers.model import RequestType

# Words citizens use when they name the kind of request themselves, strongest first: someone who
# writes "举报" wants a report handled as one even if they also ask a question.
_SELF_LABELS: tuple[tuple[RequestType, tuple[str, ...]], ...] = (
    (RequestType.REPORT, ("举报", "检举", "揭发", "贪污", "受贿", "非法", "违法")),
    (RequestType.COMPLAINT, ("投诉", "不作为", "乱收费", "态度恶劣", "态度差", "拖欠", "扰民")),
    (RequestType.SUGGESTION, ("建议", "提议", "希望能", "希望可以", "能否增设", "可否")),
    (RequestType.HELP, ("求助", "求救", "帮帮", "帮忙", "救助", "坏了", "停水", "停电")),
    (RequestType.CONSULTATION, ("咨询", "请问", "想问", "想了解", "如何办理", "怎么办理")),
)
_QUESTION_MARKS = ("?", "？", "吗", "怎么", "如何", "是否", "能不能", "可不可以")


def guess_request_type(text: str) -> RequestType:
    for kind, words in _SELF_LABELS:
        if any(word in text for word in words):
            return kind
    if any(mark in text for mark in _QUESTION_MARKS):
        return RequestType.CONSULTATION
    return RequestType.HELP
