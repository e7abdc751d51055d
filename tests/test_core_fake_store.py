"""The core's use cases against the in-memory store (tests/fake_store.py): a request from
intake to 归档 and back, without a database or Telegram — each test runs in milliseconds.

The e2e tests (tests/test_*_e2e.py) drive the same use cases through the fake Bot API and both
databases; these pin the core's own decisions: statuses, the log, who is told what.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.app import build_hotline
from handlers import dispatching, inbox, lifecycle, reminders, staff, survey
from handlers.citizen import change_request_type
from handlers.context import Hotline
from handlers.events import ButtonPress, ChatKind, Content, IncomingMessage, Person
from handlers.lifecycle import IllegalMove
from handlers.model import (
    ItemKind,
    Language,
    Rating,
    RequestType,
    Role,
    StaffMember,
    Ticket,
    TicketStatus,
)
from handlers.ports import Store
from tests.conftest import TEST_NOW
from tests.fake_store import FakeStore, QueuedMessage
from tests.world import LABOUR_CHAT, OFFICE, ROADS_CHAT, world_config

CITIZEN = Person(1, "赵大爷", language_code="zh-hans")
BOSS, ROADS_STAFF = 900, 901
LATER = TEST_NOW + timedelta(hours=1)


@pytest.fixture(scope="module")
def hotline() -> Hotline:
    # Built once: the fake store keeps after-commit work (the router's learning) unrun.
    return build_hotline(world_config(), secret="123:abc")


@pytest.fixture
def store() -> FakeStore:
    fake = FakeStore(office=OFFICE)
    fake.add_department("roads", ROADS_CHAT)
    fake.add_department("labour", LABOUR_CHAT)
    fake.add_department("welfare", None)
    for user, role, department in (
        (BOSS, Role.SUPERVISOR, None),
        (ROADS_STAFF, Role.STAFF, "roads"),
    ):
        fake.add_staff(
            user,
            role=role,
            department_code=department,
            name=None,
            language=Language.ZH,
            now=TEST_NOW,
        )
    return fake


def _store(fake: FakeStore) -> Store:
    """The fake, as the core sees it (mypy checks that it implements every role)."""
    return fake


_updates = iter(range(1, 1_000_000))


def say(
    store: FakeStore, hotline: Hotline, text: str, now: datetime = TEST_NOW, **kw: object
) -> None:
    update_id = next(_updates)
    msg = IncomingMessage(
        update_id=update_id,
        sender=CITIZEN,
        chat_id=CITIZEN.user_id,
        chat_kind=ChatKind.PRIVATE,
        message_id=update_id,
        content=kw.pop("content", Content.TEXT),  # type: ignore[arg-type]
        text=text,
        **kw,  # type: ignore[arg-type]
    )
    inbox.handle_message(_store(store), hotline, msg, now)


def press(
    store: FakeStore,
    hotline: Hotline,
    queued: QueuedMessage,
    action: str,
    user: int,
    now: datetime,
    arg: str | None = None,
) -> str | None:
    """Press the button of ``action`` (and last argument ``arg``) on a queued message, as
    ``user``; the toast."""
    store.deliver()
    (data,) = [
        b.data
        for row in queued.message.buttons
        for b in row
        if b.data
        and (found := hotline.buttons.verify(b.data))
        and found.action == action
        and (arg is None or found.args[-1] == arg)
    ][:1]
    assert data is not None
    reaction = inbox.handle_button(
        _store(store),
        hotline,
        ButtonPress(
            update_id=next(_updates),
            sender=Person(user, "某人", language_code="zh-hans"),
            chat_id=queued.message.chat_id,
            chat_kind=ChatKind.PRIVATE if queued.message.chat_id > 0 else ChatKind.GROUP,
            message_id=queued.message_id,
            callback_id="cb",
            data=data,
        ),
        now,
    )
    return reaction.callback_answer


def last(store: FakeStore, chat_id: int, purpose: str) -> QueuedMessage:
    return [
        q for q in store.outbox if q.message.chat_id == chat_id and q.message.purpose == purpose
    ][-1]


def only_ticket(store: FakeStore) -> Ticket:
    (ticket,) = store.tickets.values()
    return ticket


def member(store: FakeStore, user: int) -> StaffMember:
    found = store.staff_member(user)
    assert found is not None
    return found


def dispatched_to_roads(store: FakeStore, hotline: Hotline) -> Ticket:
    say(store, hotline, "北门路灯坏了三天，晚上很黑")
    return dispatching.dispatch(
        _store(store), hotline, only_ticket(store), "roads", TEST_NOW, by=member(store, BOSS)
    )


def signed(store: FakeStore, hotline: Hotline) -> Ticket:
    ticket = dispatched_to_roads(store, hotline)
    staff.sign_for(_store(store), hotline, ticket, member(store, ROADS_STAFF), TEST_NOW)
    return only_ticket(store)


def resolved(store: FakeStore, hotline: Hotline) -> Ticket:
    ticket = signed(store, hotline)
    staff.resolve(_store(store), hotline, ticket, member(store, ROADS_STAFF), "已修好", LATER)
    return only_ticket(store)


# -- intake and follow-up ----------------------------------------------------------------------


def test_a_new_request_is_a_numbered_ticket_waiting_for_dispatch(
    store: FakeStore, hotline: Hotline
) -> None:
    say(store, hotline, "北门路灯坏了三天，晚上很黑")
    ticket = only_ticket(store)
    assert ticket.status is TicketStatus.RECEIVED
    assert ticket.number == f"{TEST_NOW:%Y%m%d}-0001"
    assert ticket.deadline_at > TEST_NOW
    assert store.actions(ticket.id) == ["received"]
    assert store.dispatch_queue(10) == [ticket]
    # The citizen has the number; the office is asked where it goes.
    assert ticket.number in store.messages_to(CITIZEN.user_id)[-1].text
    assert any(ticket.number in m.text for m in store.messages_to(OFFICE))


def test_a_photo_after_the_request_is_added_to_it(store: FakeStore, hotline: Hotline) -> None:
    say(store, hotline, "北门路灯坏了三天，晚上很黑")
    ticket = only_ticket(store)
    say(store, hotline, "", content=Content.PHOTO, file_id="photo-1", file_unique_id="p1")
    assert [item.kind for item in store.attachments(ticket.id)] == [ItemKind.PHOTO]
    assert store.actions(ticket.id) == ["received", "added_photo"]
    assert len(store.tickets) == 1


def test_a_second_request_while_one_is_open_is_asked_about(
    store: FakeStore, hotline: Hotline
) -> None:
    say(store, hotline, "北门路灯坏了三天，晚上很黑")
    say(store, hotline, "楼道里的垃圾没人清理")
    assert len(store.tickets) == 1
    assert [h.text for h in store.held.values()] == ["楼道里的垃圾没人清理"]


# -- dispatch, sign, return ----------------------------------------------------------------------


def test_dispatch_sends_the_card_and_tells_the_citizen(store: FakeStore, hotline: Hotline) -> None:
    ticket = dispatched_to_roads(store, hotline)
    assert (ticket.status, ticket.department_code) == (TicketStatus.DISPATCHED, "roads")
    assert store.current_assignment(ticket.id) is not None
    assert [c.chat_id for c in store.ticket_cards(ticket.id)] == [ROADS_CHAT]
    (dispatched,) = [e for e in store.events if e.action == "dispatched"]
    assert (dispatched.from_status, dispatched.to_status) == (
        TicketStatus.RECEIVED,
        TicketStatus.DISPATCHED,
    )
    assert dispatched.actor_id == BOSS
    assert store.routing_examples == [(ticket.text, "roads")]  # the dispatcher's choice is learnt


def test_signing_takes_the_ticket_on_and_a_second_sign_is_refused(
    store: FakeStore, hotline: Hotline
) -> None:
    ticket = signed(store, hotline)
    assert ticket.status is TicketStatus.IN_PROGRESS
    assert ticket.signed_by == member(store, ROADS_STAFF).id
    reaction = staff.sign_for(_store(store), hotline, ticket, member(store, ROADS_STAFF), LATER)
    assert reaction.callback_alert
    assert store.actions(ticket.id)[-2:] == ["signed", "refused"]
    assert only_ticket(store).status is TicketStatus.IN_PROGRESS


def test_the_card_button_signs_for_the_department_only(store: FakeStore, hotline: Hotline) -> None:
    ticket = dispatched_to_roads(store, hotline)
    card = last(store, ROADS_CHAT, "card")
    press(store, hotline, card, "sign", BOSS + 50, TEST_NOW)  # not staff
    assert only_ticket(store).status is TicketStatus.DISPATCHED
    press(store, hotline, card, "sign", ROADS_STAFF, TEST_NOW)
    assert only_ticket(store).status is TicketStatus.IN_PROGRESS
    assert store.actions(ticket.id)[-2:] == ["refused", "signed"]


def test_a_returned_ticket_goes_back_to_the_office_in_no_department(
    store: FakeStore, hotline: Hotline
) -> None:
    ticket = signed(store, hotline)
    staff.return_ticket(
        _store(store), hotline, ticket, member(store, ROADS_STAFF), "不归我们管", LATER
    )
    returned = only_ticket(store)
    assert (returned.status, returned.department_code, returned.signed_by) == (
        TicketStatus.RETURNED,
        None,
        None,
    )
    assert store.dispatch_queue(10) == [returned]
    assert any("不归我们管" in m.text for m in store.messages_to(OFFICE))
    (event,) = [e for e in store.events if e.action == "returned"]
    assert (event.reason, event.data) == ("不归我们管", {"department": "roads"})


# -- extension, resolve, survey, reopen ----------------------------------------------------------


def test_an_approved_extension_moves_the_deadline(store: FakeStore, hotline: Hotline) -> None:
    ticket = signed(store, hotline)
    staff.request_extension(
        _store(store), hotline, ticket, member(store, ROADS_STAFF), 3, "需要采购灯具", LATER
    )
    assert only_ticket(store).deadline_at == ticket.deadline_at  # not before approval
    press(store, hotline, last(store, OFFICE, "extension_request"), "approve", BOSS, LATER)
    extended = only_ticket(store)
    assert extended.deadline_at > ticket.deadline_at
    assert store.approved_extension_days(ticket.id) == 3
    assert store.actions(ticket.id)[-2:] == ["extension_requested", "extension_approved"]


def test_a_rejected_extension_keeps_the_deadline(store: FakeStore, hotline: Hotline) -> None:
    ticket = signed(store, hotline)
    staff.request_extension(
        _store(store), hotline, ticket, member(store, ROADS_STAFF), 3, "需要采购灯具", LATER
    )
    press(store, hotline, last(store, OFFICE, "extension_request"), "reject", BOSS, LATER)
    assert only_ticket(store).deadline_at == ticket.deadline_at
    assert store.actions(ticket.id)[-1] == "extension_rejected"


def test_resolving_sends_the_answer_with_the_survey(store: FakeStore, hotline: Hotline) -> None:
    ticket = resolved(store, hotline)
    assert (ticket.status, ticket.resolved_at) == (TicketStatus.RESOLVED, LATER)
    found = store.latest_survey(ticket.id)
    assert found is not None
    assert found.rating is None
    assert any("已修好" in m.text for m in store.messages_to(CITIZEN.user_id))


def test_a_satisfied_rating_closes_the_ticket(store: FakeStore, hotline: Hotline) -> None:
    ticket = resolved(store, hotline)
    answer = last(store, CITIZEN.user_id, "answer")
    press(store, hotline, answer, "rate", CITIZEN.user_id, LATER, Rating.SATISFIED.value)
    assert only_ticket(store).status is TicketStatus.CLOSED
    assert store.closed_at[ticket.id] == LATER
    assert store.actions(ticket.id)[-1] == "closed"


def test_unsatisfied_reopens_to_the_same_department_with_a_new_deadline(
    store: FakeStore, hotline: Hotline
) -> None:
    ticket = resolved(store, hotline)
    later = LATER + timedelta(days=5)  # the Wednesday after
    answer = last(store, CITIZEN.user_id, "answer")
    press(store, hotline, answer, "rate", CITIZEN.user_id, later, Rating.UNSATISFIED.value)
    reopened = only_ticket(store)
    assert (reopened.status, reopened.department_code) == (TicketStatus.DISPATCHED, "roads")
    assert (reopened.reopen_count, reopened.signed_by, reopened.resolved_at) == (1, None, None)
    # A fresh period counted from the re-opening, not the first deadline.
    assert reopened.deadline_at == hotline.deadline_for(ticket.request_type, later).due
    assert reopened.deadline_at > ticket.deadline_at
    assert store.actions(ticket.id)[-1] == "reopened"
    assert len([r for r in store.assignments.values() if r.assignment.ticket_id == ticket.id]) == 2


def test_an_unanswered_survey_closes_as_unrated(store: FakeStore, hotline: Hotline) -> None:
    ticket = resolved(store, hotline)
    sv = store.latest_survey(ticket.id)
    assert sv is not None
    assert survey.close_unrated(_store(store), hotline, sv.due_at - timedelta(seconds=1)) == 0
    assert survey.close_unrated(_store(store), hotline, sv.due_at + timedelta(seconds=1)) == 1
    assert only_ticket(store).status is TicketStatus.CLOSED
    assert store.surveys[sv.id].rating is Rating.NONE
    (closed,) = [e for e in store.events if e.action == "closed"]
    assert (closed.actor_role, closed.data) == (Role.SYSTEM, {"rating": "none"})


# -- the citizen's edits, the supervisor's commands ------------------------------------------------


def test_changing_the_type_recounts_the_deadline(store: FakeStore, hotline: Hotline) -> None:
    say(store, hotline, "北门路灯坏了三天，晚上很黑")
    ticket = only_ticket(store)
    wanted = next(k for k in RequestType if k is not ticket.request_type)
    citizen = store.citizens[ticket.citizen_id]
    change_request_type(_store(store), hotline, citizen, ticket.id, wanted.value, None, LATER)
    changed = only_ticket(store)
    assert changed.request_type is wanted
    assert changed.deadline_at == hotline.deadline_for(wanted, ticket.received_at).due
    (event,) = [e for e in store.events if e.action == "type_changed"]
    assert event.data == {"from": ticket.request_type.value, "to": wanted.value}


# -- reminders -----------------------------------------------------------------------------------


def test_a_ticket_not_signed_for_in_time_is_reminded_once(
    store: FakeStore, hotline: Hotline
) -> None:
    ticket = dispatched_to_roads(store, hotline)
    assignment = store.current_assignment(ticket.id)
    assert assignment is not None
    late = assignment.sign_due_at + timedelta(minutes=1)
    while not reminders.office_is_open(hotline, late):  # a plain ticket waits for office hours
        late += timedelta(hours=1)

    def sign_overdue_step(now: datetime) -> None:
        (step,) = [s for s in reminders.sweep_steps(hotline, now) if s.name == "sign_overdue"]
        step.work(_store(store), hotline, now, ())

    sign_overdue_step(late - timedelta(days=2))  # not yet
    assert not store.reminders
    sign_overdue_step(late)
    sign_overdue_step(late + timedelta(minutes=1))  # once per dispatch
    assert store.reminders == {(ticket.id, "sign_overdue", str(assignment.id))}
    sent = [q.message for q in store.outbox if q.message.purpose == "reminder_sign_overdue"]
    assert {m.chat_id for m in sent} == {OFFICE, ROADS_CHAT}
    assert len(sent) == 2
    assert all(ticket.number in m.text for m in sent)


# -- the moves themselves ------------------------------------------------------------------------


def test_a_move_not_allowed_raises_and_changes_nothing(store: FakeStore, hotline: Hotline) -> None:
    say(store, hotline, "北门路灯坏了三天，晚上很黑")
    ticket = only_ticket(store)
    with pytest.raises(IllegalMove, match="cannot sign a ticket that is received"):
        lifecycle.sign(ticket, member(store, ROADS_STAFF), TEST_NOW)
    with pytest.raises(IllegalMove):
        lifecycle.resolve(ticket, member(store, ROADS_STAFF), TEST_NOW, on_time=True)
    assert only_ticket(store) == ticket


def test_each_move_returns_the_ticket_it_leaves_and_its_event(
    store: FakeStore, hotline: Hotline
) -> None:
    say(store, hotline, "北门路灯坏了三天，晚上很黑")
    ticket = only_ticket(store)
    boss, worker = member(store, BOSS), member(store, ROADS_STAFF)
    moved = lifecycle.dispatch(ticket, "roads", LATER, by=boss)
    assert (moved.ticket.status, moved.ticket.department_code) == (
        TicketStatus.DISPATCHED,
        "roads",
    )
    assert (moved.event.from_status, moved.event.to_status) == (
        TicketStatus.RECEIVED,
        TicketStatus.DISPATCHED,
    )
    assert lifecycle.save(_store(store), moved) == moved.ticket == only_ticket(store)
    merged = lifecycle.merge(moved.ticket, ticket, boss, LATER)
    assert (merged.ticket.status, merged.ticket.merged_into_id) == (TicketStatus.MERGED, ticket.id)
    withdrawn = lifecycle.withdraw(moved.ticket, store.citizens[ticket.citizen_id], LATER)
    assert withdrawn.ticket.status is TicketStatus.WITHDRAWN
    signed_move = lifecycle.sign(moved.ticket, worker, LATER)
    assert signed_move.change.columns() == {
        "status": TicketStatus.IN_PROGRESS,
        "signed_by": worker.id,
    }
    urgent = lifecycle.mark_urgent(moved.ticket, boss, LATER, deadline_at=LATER)
    assert (urgent.ticket.urgent, urgent.ticket.deadline_at, urgent.event.action) == (
        True,
        LATER,
        "marked_urgent",
    )
