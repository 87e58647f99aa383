"""The read that checks the session goes alone: the first store's shortest (issue 18).

Every other store's read waits for it, so a read of today's visits (one page,
most days) starts them a round trip sooner than a month of visits would.
"""

from __future__ import annotations

from datetime import date, datetime

from naver_sms.config import AppConfig
from naver_sms.cycle import all_fetch_jobs, read_order
from naver_sms.domain.booking import KST
from naver_sms.domain.plan import Shop
from naver_sms.domain.rules import COMPLETED, CONFIRMED

NOW = datetime(2026, 11, 25, 20, 30, tzinfo=KST)


def shops(config: AppConfig) -> list[Shop]:
    return [
        Shop(store.id, advertising_allowed=bool(store.opt_out), catalog=config.catalog(store))
        for store in config.stores
    ]


def test_the_session_is_checked_with_the_first_store_s_visits_of_today() -> None:
    config = AppConfig.model_validate(
        {
            "stores": [
                {"id": "5000001", "name": "첫째 가게", "sender": "0200000000"},
                {"id": "5000002", "name": "둘째 가게", "sender": "0200000000"},
            ]
        }
    )

    jobs, lead = all_fetch_jobs(shops(config), NOW)

    assert jobs[lead] == ("5000001", (COMPLETED,), (date(2026, 11, 25), date(2026, 11, 25)))
    # Every store is still read for its month of confirmed visits and its completed ones.
    assert sorted((biz_id, statuses[0]) for biz_id, statuses, _days in jobs) == [
        ("5000001", CONFIRMED),
        ("5000001", COMPLETED),
        ("5000002", CONFIRMED),
        ("5000002", COMPLETED),
    ]


def test_the_month_long_reads_start_before_the_day_long_ones() -> None:
    config = AppConfig.model_validate(
        {
            "stores": [
                {"id": f"500000{n}", "name": f"가게 {n}", "sender": "0200000000"}
                for n in range(1, 4)
            ]
        }
    )
    jobs, lead = all_fetch_jobs(shops(config), NOW)

    order = read_order(jobs, lead)

    # Every read but the lead one, once; the three months first, in the stores' order.
    assert sorted([*order, lead]) == list(range(len(jobs)))
    assert [(jobs[i][0], jobs[i][1][0]) for i in order] == [
        ("5000001", CONFIRMED),
        ("5000002", CONFIRMED),
        ("5000003", CONFIRMED),
        ("5000002", COMPLETED),
        ("5000003", COMPLETED),
    ]
