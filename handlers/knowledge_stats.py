"""直接答复 figures for a period: how many contacts the knowledge base answered on the spot, how
many of those still went to a person, which entries served and which never did, and how often
each department kept its entries up to date (provinces score the 知识库 on it).

Counted from the direct answers given (``kb_offers``) by the moment the answer was given, and
the tickets received in the period:

contacts
    tickets received in the period (a directly answered contact is a ticket too: closed at
    once) plus direct answers still waiting for the citizen's word.
directly_answered
    direct answers settled as answered: 已解决, or no word within the hold window.
handed_over
    direct answers that became ordinary tickets: 仍需人工办理, or the citizen wrote again.
直接答复率 = directly_answered / contacts; 直接答复后转人工率 = handed_over / (directly_answered +
handed_over).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers import texts
from handlers.model import Language


@dataclass(frozen=True)
class EntryUse:
    entry: str
    answered: int
    handed_over: int


@dataclass(frozen=True)
class DirectAnswerFigures:
    contacts: int
    directly_answered: int
    handed_over: int
    waiting: int
    # Most used first.
    entries: tuple[EntryUse, ...] = ()
    # Entries in force and active that answered nobody in the period.
    never_used: tuple[str, ...] = ()
    # Entry changes (created, updated, turned off …) per department code ("" for none).
    updates: dict[str, int] = field(default_factory=dict)

    @property
    def direct_answer_rate(self) -> float | None:
        return self.directly_answered / self.contacts if self.contacts else None

    @property
    def handover_rate(self) -> float | None:
        given = self.directly_answered + self.handed_over
        return self.handed_over / given if given else None

    def to_dict(self) -> dict[str, object]:
        return {
            "contacts": self.contacts,
            "directly_answered": self.directly_answered,
            "handed_over": self.handed_over,
            "waiting": self.waiting,
            "direct_answer_rate": self.direct_answer_rate,
            "handover_rate": self.handover_rate,
            "entries": [
                {"entry": u.entry, "answered": u.answered, "handed_over": u.handed_over}
                for u in self.entries
            ],
            "never_used": list(self.never_used),
            "updates": dict(self.updates),
        }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


MOST_USED_SHOWN = 10
NEVER_USED_SHOWN = 20


def figures_text(
    figures: DirectAnswerFigures, label: str, lang: Language, names: dict[str, str]
) -> str:
    """The figures as a message (/kb_stats) or the CLI's text output."""
    lines = [
        texts.KB_STATS_HEADER(lang, label=label),
        texts.KB_STATS_RATES(
            lang,
            rate=_percent(figures.direct_answer_rate),
            answered=figures.directly_answered,
            contacts=figures.contacts,
            handover=_percent(figures.handover_rate),
            handed_over=figures.handed_over,
            waiting=figures.waiting,
        ),
    ]
    if figures.entries:
        lines.append(texts.KB_STATS_MOST_USED(lang))
        lines += [
            f"  {u.entry}: {u.answered} / {u.handed_over}"
            for u in figures.entries[:MOST_USED_SHOWN]
        ]
    if figures.never_used:
        shown = ", ".join(figures.never_used[:NEVER_USED_SHOWN])
        more = len(figures.never_used) - NEVER_USED_SHOWN
        lines.append(
            texts.KB_STATS_NEVER_USED(lang, count=len(figures.never_used), entries=shown)
            + (f" …(+{more})" if more > 0 else "")
        )
    if figures.updates:
        updates = ", ".join(
            f"{names.get(code, code or '—')} {count}"
            for code, count in sorted(figures.updates.items(), key=lambda item: -item[1])
        )
        lines.append(texts.KB_STATS_UPDATES(lang, updates=updates))
    return "\n".join(lines)
