"""答复预检 (答非所问): look at a staff answer before it reaches the citizen.

A 12345 answer is judged by the citizen and by 质检 on whether it answers what was asked. Four
signs of an answer that does not, each checked offline on the text alone:

* **too short** for the request: a few words in reply to a long account;
* **no shared key term**: not one of the request's words of substance (character pairs that
  are not grammar or forms of asking) comes back in the answer;
* **only template phrases**: 已收悉, 感谢您的关注, 我们会尽快处理 … and nothing else;
* **a number that is not the department's**: a phone number the department does not own, or an
  ID / bank card number (someone's personal data, never the answer's business).

An answer with no words at all (punctuation, an emoji) is ``empty``: it cannot be sent anyway.
Pure functions: the staff flow (handlers.staff), the tests and ``bench/answer_check.py`` call
``check_answer``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from handlers.display import mask_phone
from handlers.routing import CJK

_CONTENT = re.compile(rf"[{CJK}A-Za-z0-9]")
_RUN = re.compile(rf"[{CJK}]+")

# Shortest acceptable answer, in characters of content: a tenth of the request, within bounds
# (a 4-character complaint may get "路灯已修好"; a 600-character account needs more than a line).
MIN_ANSWER_CHARS = 4
MAX_REQUIRED_CHARS = 30
REQUEST_SHARE = 0.1
# Up to this many characters a request is "short": sharing one character with it counts.
SHORT_REQUEST_CHARS = 20
# What is left of an answer once its template phrases are gone, below which it said nothing.
TEMPLATE_RESIDUE_CHARS = 4

# Characters of grammar and address: a pair holding one says nothing of the matter.
_FILLER = frozenset(
    "的了是在我你他她它们有不这那就都也和与及等个吗呢吧啊呀哦嘛请一下好还把被给让很太想要"
    "您对为从到于以及或而但所其之此该已经将会能可"
)
# Words of asking, greeting and hotline routine: every request and answer has them. They are
# cut out before pairing, so no pair straddles one ("尽快处理" leaves no "快处").
_ROUTINE = re.compile(
    "|".join(
        ("什么", "怎么", "怎样", "如何", "哪里", "时候", "为何", "多少", "可以", "是否", "没有",
         "反映", "问题", "情况", "处理", "解决", "希望", "谢谢", "感谢", "麻烦", "市民", "群众",
         "网友", "留言", "来信", "回复", "答复", "部门", "单位", "相关", "有关", "工作", "尽快",
         "及时", "现在", "目前", "已经", "现将", "如下", "收悉", "关注", "支持", "理解", "领导",
         "政府", "您好", "你好")
    )
)  # fmt: skip

# Phrases that fit any request. Removed before measuring what an answer says of its own.
_TEMPLATES = re.compile(
    "|".join(
        (
            "(尊敬|亲爱)的(市民|群众|网友|朋友|先生|女士)?",
            "(网友|市民|群众)?(您|你)好",
            "(您|你)(的|所)?(反映|来信|留言|诉求|来电|意见|建议|咨询)?(的|所反映的)?(问题|情况|事项)?(我们)?(已|已经)?收悉",
            "(已|已经)?收悉",
            "(非常|十分)?感谢(您|你)?(对我们?(工作)?的?)?(的)?(关注|支持|理解|配合|监督|来信|留言|反映|建议|信任)?",
            "谢谢(您|你)?(的)?(关注|支持|理解|配合)?",
            "(我们|我单位|我局|我办|我镇|本单位)?(会|将|已|正在)?(尽快|及时|认真|积极|立即|马上)?"
            "(处理|核实|研究|调查|回复|答复|跟进|落实|办理|了解)(中|此事|您的问题|相关情况)?",
            "(已|已经)?(转|转交|转给|转至|交由|移交)(相关|有关)?(部门|单位)?(处理|办理|核实|跟进)?",
            "(请|敬请)(您)?(耐心)?(等待|等候|理解)",
            "特此(回复|答复|说明)|此复",
            "现(将)?(有关|相关)?(情况|问题)?(回复|答复)如下",
            "(您|你)?(所)?反映的(问题|情况|事项)",
            "如(有|还有)(疑问|问题|其他问题|需要)",
            "(高度|非常)重视",
            "(相关|有关)(部门|单位|情况|问题)",
            "祝(您|你)?(生活愉快|身体健康|工作顺利|顺利)?",
            "(我们|我单位)(会|将)?(继续)?(加强|关注|跟踪)",
            "(欢迎|期待)(您|你)?(继续)?(监督|关注|支持)",
            "好的|收到|知道了|了解",
        )
    )
)

# Phone and identity numbers: a run of digits, possibly with spaces or hyphens inside and a +86.
# Digits right after a letter are a code (a user name "A00023583", a licence "gb50016"), not a
# number to call.
_NUMBER = re.compile(
    r"(?<![\dA-Za-z])(?:\+?86[\s\-—]?)?\d(?:[\d\s\-—]{5,22})[\dXx](?![\dXxA-Za-z])"
)
_SEPARATED = re.compile(r"\d[\s\-—]+\d")
_DATE = re.compile(r"^\d{4}[-\s]\d{1,2}[-\s]\d{1,2}$")


class Flag(StrEnum):
    """Why an answer may not answer the request."""

    EMPTY = "empty"
    TOO_SHORT = "too_short"
    NO_SHARED_TERM = "no_shared_term"
    TEMPLATE_ONLY = "template_only"
    FOREIGN_NUMBER = "foreign_number"


@dataclass(frozen=True, slots=True)
class AnswerCheck:
    """The flags raised, in the order above; ``numbers`` are the foreign ones, masked."""

    flags: tuple[Flag, ...]
    answer_chars: int = 0
    required_chars: int = 0
    numbers: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.flags

    @property
    def may_send_anyway(self) -> bool:
        """Staff may overrule any flag but an empty answer: nothing would reach the citizen."""
        return bool(self.flags) and Flag.EMPTY not in self.flags


def content_chars(text: str) -> int:
    """Characters that carry words (Chinese characters, letters, digits)."""
    return len(_CONTENT.findall(text))


def key_terms(text: str) -> set[str]:
    """The request's words of substance, as character pairs (no dictionary needed)."""
    terms: set[str] = set()
    for run in _RUN.findall(_ROUTINE.sub(" ", text)):
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if pair[0] not in _FILLER and pair[1] not in _FILLER:
                terms.add(pair)
    terms.update(word.lower() for word in re.findall(r"[A-Za-z]{3,}", text))
    return terms


def _substantive_chars(text: str) -> set[str]:
    return {c for run in _RUN.findall(_ROUTINE.sub(" ", text)) for c in run if c not in _FILLER}


def _shares_a_word_of_short(request: str, answer: str) -> bool:
    """A request of a line has few pairs, and a good answer may share one character of it
    ("自来水管破裂" → "恢复供水"); in a longer one a shared character proves nothing."""
    if content_chars(request) > SHORT_REQUEST_CHARS:
        return False
    return bool(_substantive_chars(request) & _substantive_chars(answer))


def without_templates(answer: str) -> str:
    """The answer with its template phrases taken out."""
    return _TEMPLATES.sub("", answer)


def digits_of(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return digits[2:] if number.lstrip().startswith("+86") else digits


def number_kind(token: str) -> str | None:
    """ "phone", "id" or None (a date, an amount, a ticket number) for a run of digits."""
    if _DATE.match(token.strip()):
        return None
    digits = digits_of(token)
    last = token.strip()[-1]
    if last in "Xx":
        return "id" if len(digits) == 17 else None
    if _SEPARATED.search(token.strip()):
        # Grouped digits are how phone numbers are written ("0887-8221234", "138 1234 5678");
        # ID and card numbers are copied in one run.
        # A ticket number (YYYYMMDD-NNNN) is grouped too: a phone starts with its area code's
        # 0 or a mobile's 1, or is a local number of 7 or 8 digits.
        local = len(digits) in (7, 8)
        return "phone" if digits[0] in "01" or local else None
    if 15 <= len(digits) <= 19:
        return "id"  # an ID card (15 or 18), or a bank card (16 to 19)
    if len(digits) == 11 and digits.startswith("1"):
        return "phone"  # a mobile
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        return "phone"  # a landline with its area code
    if len(digits) in (7, 8) and "-" not in token:
        return "phone"  # a local landline
    return None


def foreign_numbers(answer: str, department_numbers: Collection[str] = ()) -> tuple[str, ...]:
    """Phone numbers in the answer the department does not own, and any ID or card number,
    masked."""
    return tuple(masked for _, masked in foreign_number_kinds(answer, department_numbers))


def foreign_number_kinds(
    answer: str, department_numbers: Collection[str] = ()
) -> list[tuple[str, str]]:
    """As ``foreign_numbers``, each with its kind: "mobile", "landline" or "id"."""
    own = {digits_of(n) for n in department_numbers}
    # A landline is also written without its area code: its local part is the department's too.
    own |= {n[-8:] for n in own if len(n) >= 10} | {n[-7:] for n in own if len(n) >= 10}
    found: list[tuple[str, str]] = []
    for match in _NUMBER.finditer(answer):
        token = match.group(0)
        kind = number_kind(token)
        if kind is None:
            continue
        digits = digits_of(token)
        if kind == "phone" and any(digits.endswith(n) for n in own if len(n) >= 7):
            continue
        if kind == "phone":
            kind = "mobile" if len(digits) == 11 and digits.startswith("1") else "landline"
        found.append((kind, mask_phone(token)))
    return found


def required_chars(request: str) -> int:
    share = round(content_chars(request) * REQUEST_SHARE)
    return min(MAX_REQUIRED_CHARS, max(MIN_ANSWER_CHARS, share))


def check_answer(
    request: str, answer: str, department_numbers: Collection[str] = ()
) -> AnswerCheck:
    """The flags of ``answer`` to ``request``; ``department_numbers`` are the phone numbers
    the answering department may give out."""
    length = content_chars(answer)
    needed = required_chars(request)
    if length == 0:
        return AnswerCheck((Flag.EMPTY,), 0, needed)
    flags: list[Flag] = []
    if length < needed:
        flags.append(Flag.TOO_SHORT)
    terms = key_terms(request)
    if terms and not terms & key_terms(answer) and not _shares_a_word_of_short(request, answer):
        flags.append(Flag.NO_SHARED_TERM)
    residue = without_templates(answer)
    # Only when set phrases were there to take out: a short answer of its own is "too short".
    if residue != answer and content_chars(residue) < TEMPLATE_RESIDUE_CHARS:
        flags.append(Flag.TEMPLATE_ONLY)
    numbers = foreign_numbers(answer, department_numbers)
    if numbers:
        flags.append(Flag.FOREIGN_NUMBER)
    return AnswerCheck(tuple(flags), length, needed, numbers)
