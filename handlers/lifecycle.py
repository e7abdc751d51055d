"""A ticket's life (工单流程, domain.md): which move is allowed from which status.

受理 → 派单 → 签收 or 退单 → 办理 → 办结 → 回访 → 归档; 不满意 re-opens (重办) to the same
department; side paths: 延期, 撤回, 并单. Any other move is refused.
"""

from __future__ import annotations

from enum import StrEnum

from handlers.model import TicketStatus

S = TicketStatus


class Move(StrEnum):
    DISPATCH = "dispatch"  # 派单 (also re-dispatch by a supervisor)
    SIGN = "sign"  # 签收
    RETURN = "return"  # 退单
    EXTEND = "extend"  # 延期 (request and approval)
    RESOLVE = "resolve"  # 办结
    REOPEN = "reopen"  # 重办 after 不满意
    CLOSE = "close"  # 归档 after the survey
    WITHDRAW = "withdraw"  # 撤回 by the citizen
    MERGE = "merge"  # 并单 into an earlier ticket
    URGE = "urge"  # 催办 / mark urgent: changes no status


_ALLOWED: dict[Move, dict[TicketStatus, TicketStatus]] = {
    Move.DISPATCH: {
        S.RECEIVED: S.DISPATCHED,
        S.RETURNED: S.DISPATCHED,
        S.DISPATCHED: S.DISPATCHED,
        S.IN_PROGRESS: S.DISPATCHED,
    },
    Move.SIGN: {S.DISPATCHED: S.IN_PROGRESS},
    Move.RETURN: {S.DISPATCHED: S.RETURNED, S.IN_PROGRESS: S.RETURNED},
    Move.EXTEND: {S.DISPATCHED: S.DISPATCHED, S.IN_PROGRESS: S.IN_PROGRESS},
    Move.RESOLVE: {S.IN_PROGRESS: S.RESOLVED},
    Move.REOPEN: {S.RESOLVED: S.DISPATCHED},
    Move.CLOSE: {S.RESOLVED: S.CLOSED},
    Move.WITHDRAW: {
        status: S.WITHDRAWN for status in (S.RECEIVED, S.DISPATCHED, S.RETURNED, S.IN_PROGRESS)
    },
    Move.MERGE: {S.RECEIVED: S.MERGED, S.DISPATCHED: S.MERGED, S.RETURNED: S.MERGED},
    Move.URGE: {status: status for status in (S.RECEIVED, S.DISPATCHED, S.RETURNED, S.IN_PROGRESS)},
}


class IllegalMove(Exception):
    """The move does not fit the ticket's status (signing twice, resolving a returned one …)."""

    def __init__(self, move: Move, status: TicketStatus) -> None:
        super().__init__(f"cannot {move.value} a ticket that is {status.value}")
        self.move = move
        self.status = status


def allowed(move: Move, status: TicketStatus) -> bool:
    return status in _ALLOWED[move]


def after(move: Move, status: TicketStatus) -> TicketStatus:
    """The status a move leads to from ``status``; IllegalMove if it is not allowed."""
    try:
        return _ALLOWED[move][status]
    except KeyError:
        raise IllegalMove(move, status) from None
