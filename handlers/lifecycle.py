"""A ticket's life (工单流程, domain.md): which move is allowed from which status.

受理 → 派单 → 签收 or 退单 → 办理 → 办结 → 回访 → 归档; 不满意 re-opens (重办) to the same
department; side paths: 延期, 撤回, 并单. Any other move is refused.

Every change of a ticket is made here: a move checks that it is allowed, and returns the ticket
as it leaves it with the change to write and the event to log (``Moved``); ``save`` writes both.
No other module builds a move's event or a ticket's change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from handlers.model import (
    Citizen,
    KbOffer,
    OfferOutcome,
    Rating,
    RequestType,
    Role,
    StaffMember,
    Ticket,
    TicketChange,
    TicketEvent,
    TicketStatus,
)
from handlers.ports import History, Tickets

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


# -- the moves -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moved:
    """A move made: the ticket as it leaves it, what to write, and the line of its log."""

    ticket: Ticket
    change: TicketChange
    event: TicketEvent


class _TicketsAndHistory(Tickets, History, Protocol):
    pass


def save(store: _TicketsAndHistory, moved: Moved) -> Ticket:
    """Write the change (if any) and log the event; the ticket as stored."""
    ticket = moved.ticket
    if moved.change != _NO_CHANGE:
        ticket = store.update_ticket(ticket.id, moved.event.at, moved.change)
    store.record(moved.event)
    return ticket


_NO_CHANGE = TicketChange()


def _moved(
    ticket: Ticket,
    change: TicketChange,
    now: datetime,
    role: Role,
    actor_id: int | None,
    action: str,
    *,
    moves_status: bool = False,
    reason: str | None = None,
    data: dict[str, object] | None = None,
) -> Moved:
    after_move = change.applied_to(ticket)
    return Moved(
        after_move,
        change,
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            actor_role=role,
            actor_id=actor_id,
            action=action,
            from_status=ticket.status if moves_status else None,
            to_status=after_move.status if moves_status else None,
            reason=reason,
            data=data,
        ),
    )


def received(ticket: Ticket, citizen: Citizen, now: datetime) -> TicketEvent:
    """受理: the first line of a new ticket's log."""
    return TicketEvent(
        ticket_id=ticket.id,
        at=now,
        actor_role=Role.CITIZEN,
        actor_id=citizen.telegram_user_id,
        action="received",
        to_status=ticket.status,
        data={
            "request_type": ticket.request_type.value,
            "deadline_estimated": ticket.deadline_estimated,
        },
    )


def dispatch(
    ticket: Ticket,
    department_code: str,
    now: datetime,
    *,
    by: StaffMember | None,
    confidence: float | None = None,
) -> Moved:
    """派单 or 改派 to a department, by a dispatcher (``by``) or the router (None)."""
    change = TicketChange(
        status=after(Move.DISPATCH, ticket.status), department_code=department_code, signed_by=None
    )
    return _moved(
        ticket,
        change,
        now,
        Role.SUPERVISOR if by else Role.SYSTEM,
        by.telegram_user_id if by else None,
        "dispatched",
        moves_status=True,
        data={
            "department": department_code,
            "from_department": ticket.department_code,
            "automatic": by is None,
            "confidence": confidence,
        },
    )


def sign(ticket: Ticket, staff: StaffMember, now: datetime) -> Moved:
    """签收 by the department's staff."""
    change = TicketChange(status=after(Move.SIGN, ticket.status), signed_by=staff.id)
    return _moved(
        ticket, change, now, staff.role, staff.telegram_user_id, "signed", moves_status=True
    )


def send_back(ticket: Ticket, staff: StaffMember, reason: str, now: datetime) -> Moved:
    """退单: back to the office, in no department, to be dispatched again."""
    change = TicketChange(
        status=after(Move.RETURN, ticket.status), department_code=None, signed_by=None
    )
    return _moved(
        ticket,
        change,
        now,
        staff.role,
        staff.telegram_user_id,
        "returned",
        moves_status=True,
        reason=reason,
        data={"department": ticket.department_code},
    )


def request_extension(
    ticket: Ticket, staff: StaffMember, working_days: int, reason: str, now: datetime
) -> Moved:
    """延期 asked for: the deadline stays until the office approves."""
    after(Move.EXTEND, ticket.status)
    return _moved(
        ticket,
        _NO_CHANGE,
        now,
        staff.role,
        staff.telegram_user_id,
        "extension_requested",
        reason=reason,
        data={"days": working_days},
    )


def decide_extension(
    ticket: Ticket,
    who: StaffMember,
    working_days: int,
    reason: str,
    now: datetime,
    *,
    new_deadline: tuple[datetime, bool] | None,
) -> Moved:
    """延期 approved (``new_deadline``: when and whether estimated) or rejected (None)."""
    change = _NO_CHANGE
    if new_deadline is not None:
        after(Move.EXTEND, ticket.status)
        due, estimated = new_deadline
        change = TicketChange(deadline_at=due, deadline_estimated=estimated)
    return _moved(
        ticket,
        change,
        now,
        Role.SUPERVISOR,
        who.telegram_user_id,
        "extension_approved" if new_deadline is not None else "extension_rejected",
        reason=reason,
        data={"days": working_days},
    )


def resolve(ticket: Ticket, staff: StaffMember, now: datetime, *, on_time: bool) -> Moved:
    """办结: answered; the survey (回访) follows."""
    change = TicketChange(status=after(Move.RESOLVE, ticket.status), resolved_at=now)
    return _moved(
        ticket,
        change,
        now,
        staff.role,
        staff.telegram_user_id,
        "resolved",
        moves_status=True,
        data={"on_time": on_time},
    )


def reopen(
    ticket: Ticket,
    citizen: Citizen,
    now: datetime,
    *,
    deadline_at: datetime,
    deadline_estimated: bool,
    unsolved: bool,
) -> Moved:
    """重办 after 不满意 (or 未解决): the same department signs for it again."""
    change = TicketChange(
        status=after(Move.REOPEN, ticket.status),
        deadline_at=deadline_at,
        deadline_estimated=deadline_estimated,
        signed_by=None,
        resolved_at=None,
        reopen_count=ticket.reopen_count + 1,
    )
    return _moved(
        ticket,
        change,
        now,
        Role.CITIZEN,
        citizen.telegram_user_id,
        "reopened",
        moves_status=True,
        data={"round": ticket.reopen_count + 2, "unsolved": unsolved},
    )


def reopen_refused(ticket: Ticket, now: datetime, *, unsolved: bool) -> Moved:
    """Past the re-open limit: the ticket stays as it is, the office follows it up."""
    return _moved(
        ticket,
        _NO_CHANGE,
        now,
        Role.CITIZEN,
        None,
        "reopen_limit",
        moves_status=True,
        data={"reopen_count": ticket.reopen_count, "unsolved": unsolved},
    )


def close(ticket: Ticket, now: datetime, rating: Rating, *, actor: Citizen | None) -> Moved:
    """归档 after the citizen's rating (``actor``), or as 未评价 by the sweep (None)."""
    change = TicketChange(status=after(Move.CLOSE, ticket.status), closed_at=now)
    return _moved(
        ticket,
        change,
        now,
        Role.CITIZEN if actor else Role.SYSTEM,
        actor.telegram_user_id if actor else None,
        "closed",
        moves_status=True,
        data={"rating": rating.value},
    )


def withdraw(ticket: Ticket, citizen: Citizen, now: datetime) -> Moved:
    """撤回 by the citizen."""
    change = TicketChange(status=after(Move.WITHDRAW, ticket.status))
    return _moved(
        ticket, change, now, Role.CITIZEN, citizen.telegram_user_id, "withdrawn", moves_status=True
    )


def merge(ticket: Ticket, into: Ticket, by: StaffMember, now: datetime) -> Moved:
    """并单 into an earlier ticket of the same matter."""
    change = TicketChange(status=after(Move.MERGE, ticket.status), merged_into_id=into.id)
    return _moved(
        ticket,
        change,
        now,
        by.role,
        by.telegram_user_id,
        "merged",
        moves_status=True,
        data={"into": into.number},
    )


def mark_urgent(ticket: Ticket, by: StaffMember, now: datetime, *, deadline_at: datetime) -> Moved:
    """Marked urgent (加急): hours instead of working days."""
    after(Move.URGE, ticket.status)
    change = TicketChange(urgent=True, deadline_at=deadline_at, deadline_estimated=False)
    return _moved(ticket, change, now, Role.SUPERVISOR, by.telegram_user_id, "marked_urgent")


def nudge(ticket: Ticket, by: StaffMember, note: str, now: datetime) -> Moved:
    """催办: the department is reminded; nothing on the ticket changes."""
    after(Move.URGE, ticket.status)
    return _moved(
        ticket, _NO_CHANGE, now, Role.SUPERVISOR, by.telegram_user_id, "nudged", reason=note or None
    )


# -- changes that are no move of the ticket's life ---------------------------------------------


def change_type(
    ticket: Ticket,
    citizen: Citizen,
    kind: RequestType,
    now: datetime,
    *,
    deadline: tuple[datetime, bool] | None,
) -> Moved:
    """The citizen corrects the request type (an urgent ticket keeps its deadline: None)."""
    change = TicketChange(request_type=kind)
    if deadline is not None:
        due, estimated = deadline
        change = TicketChange(request_type=kind, deadline_at=due, deadline_estimated=estimated)
    return _moved(
        ticket,
        change,
        now,
        Role.CITIZEN,
        citizen.telegram_user_id,
        "type_changed",
        data={"from": ticket.request_type.value, "to": kind.value},
    )


def locate(latitude: float | None, longitude: float | None) -> TicketChange:
    """The citizen shares where it is: no event (the location item is logged)."""
    return TicketChange(latitude=latitude, longitude=longitude)


def answered_directly(
    ticket: Ticket, citizen: Citizen, offer: KbOffer, outcome: OfferOutcome, now: datetime
) -> Moved:
    """The record of a direct answer (直接答复): a ticket created closed, answered when asked."""
    by_citizen = outcome is OfferOutcome.RESOLVED
    moved = _moved(
        ticket,
        TicketChange(resolved_at=offer.created_at),
        now,
        Role.CITIZEN if by_citizen else Role.SYSTEM,
        citizen.telegram_user_id if by_citizen else None,
        "direct_answer",
        data={"entry": offer.entry_key, "outcome": outcome.value, "score": offer.score},
    )
    # Created closed: the log says where it went, not where it came from.
    return Moved(moved.ticket, moved.change, replace(moved.event, to_status=TicketStatus.CLOSED))
