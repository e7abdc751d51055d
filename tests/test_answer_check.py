"""答复预检: the four signs of an answer that does not answer the request (pure functions)."""

from __future__ import annotations

import pytest

from handlers.answer_check import (
    Flag,
    check_answer,
    foreign_numbers,
    key_terms,
    required_chars,
    without_templates,
)
from handlers.answer_review import with_draft

LONG_REQUEST = (
    "我是建塘镇向阳村村民，今年三月申请的耕地地力保护补贴到现在还没有发到社保卡上，"
    "村里说是镇上审核的问题，镇农业服务中心说材料已经报到县里了，来回跑了三次也没有结果，"
    "希望有关部门查一下到底卡在哪个环节，什么时候能发放。"
)
GOOD_ANSWER = (
    "经镇农业服务中心核实，您的耕地地力保护补贴因银行账户信息有误被退回，已于12月3日更正"
    "并重新报县财政局，预计12月20日前发放到社保卡。如有疑问可致电农业服务中心。"
)


def test_a_good_answer_passes() -> None:
    check = check_answer(LONG_REQUEST, GOOD_ANSWER)
    assert check.passed
    assert check.flags == ()


def test_a_short_answer_to_a_short_request_passes() -> None:
    assert check_answer("路灯坏了", "路灯已修好").passed
    assert check_answer("路边的井盖丢了", "已补装井盖。").passed


def test_too_short_for_a_long_request() -> None:
    check = check_answer(LONG_REQUEST, "补贴已发放。")
    assert Flag.TOO_SHORT in check.flags
    assert check.required_chars == required_chars(LONG_REQUEST) > check.answer_chars
    assert Flag.NO_SHARED_TERM not in check.flags  # 补贴 comes back


def test_no_shared_key_term() -> None:
    check = check_answer("村口的路灯坏了好几天", "已安排人员上门维修燃气管道。")
    assert check.flags == (Flag.NO_SHARED_TERM,)


def test_a_short_request_may_share_one_character() -> None:
    assert check_answer("自来水管破裂，水漫到路上", "已关阀抢修，恢复供水。").passed
    assert Flag.NO_SHARED_TERM in check_answer("路灯坏了", "已修复完毕").flags
    # In a long request one character in common proves nothing.
    assert Flag.NO_SHARED_TERM in check_answer(LONG_REQUEST, "已安排人员上门检修燃气管道。").flags


def test_routine_words_are_not_key_terms() -> None:
    # 反映, 问题, 处理 are in every request and answer: sharing them shares nothing.
    assert key_terms("我反映的问题请尽快处理") == set()
    assert "路灯" in key_terms("路灯坏了")


def test_only_template_phrases() -> None:
    answer = "您好，您反映的问题已收悉，我们会尽快处理，感谢您的关注！"
    check = check_answer(LONG_REQUEST, answer)
    assert Flag.TEMPLATE_ONLY in check.flags
    assert Flag.NO_SHARED_TERM in check.flags
    assert without_templates(answer).strip("，！ ") == ""


def test_a_template_opening_around_real_content_passes() -> None:
    answer = "您好，您的留言已收悉。" + GOOD_ANSWER + "感谢您对我们工作的支持！"
    assert check_answer(LONG_REQUEST, answer).passed


@pytest.mark.parametrize("answer", ["", "   ", "。。", "👍", "……！"])
def test_an_answer_without_words_is_empty_and_cannot_be_sent_anyway(answer: str) -> None:
    check = check_answer("路灯坏了", answer)
    assert check.flags == (Flag.EMPTY,)
    assert not check.may_send_anyway


def test_flags_other_than_empty_may_be_sent_anyway() -> None:
    assert check_answer(LONG_REQUEST, "已收悉").may_send_anyway
    assert not check_answer(LONG_REQUEST, GOOD_ANSWER).may_send_anyway  # nothing to overrule


def test_a_phone_number_not_the_departments_is_flagged_and_masked() -> None:
    answer = GOOD_ANSWER + "经办人手机13812345678。"
    check = check_answer(LONG_REQUEST, answer, department_numbers=("0887-8221234",))
    assert check.flags == (Flag.FOREIGN_NUMBER,)
    assert check.numbers == ("138****5678",)


def test_the_departments_own_number_passes_with_or_without_area_code() -> None:
    own = ("0887-8221234",)
    assert foreign_numbers("请致电0887-8221234咨询", own) == ()
    assert foreign_numbers("请致电 8221234 咨询", own) == ()
    assert foreign_numbers("请致电（0887）8221234咨询", own) == ()
    assert foreign_numbers("请致电0887-8229999咨询", own) == ("088****9999",)


def test_id_and_bank_card_numbers_are_always_flagged() -> None:
    assert foreign_numbers("身份证号53342119800101123X已登记") == ("533***********123X",)
    assert len(foreign_numbers("已退回至卡号6222021234567890123")) == 1


@pytest.mark.parametrize(
    "text",
    [
        "已于2026-12-03更正",
        "工单20261207-0001已办结",
        "补贴标准为每亩120元，共计3600元",
        "请拨打12345热线或110报警",
        "2026年12月20日前发放",
    ],
)
def test_dates_amounts_ticket_and_service_numbers_are_not_personal_numbers(text: str) -> None:
    assert foreign_numbers(text) == ()


def test_a_reply_to_a_draft_adds_to_it_or_replaces_it() -> None:
    draft = "路灯已更换，恢复照明。"
    assert with_draft(draft, "+") == draft
    assert with_draft(draft, "＋ 路口那盏也已检修。") == f"{draft}\n路口那盏也已检修。"
    assert with_draft(draft, "另写的答复") == "另写的答复"
    assert with_draft(None, "+ 只有这句") == "+ 只有这句"  # no draft: the reply as written
