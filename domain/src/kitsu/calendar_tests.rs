//! Given/when/then for the days an owner holds, and the order of a day off's dates.
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use serde_json::json;

use super::*;

type CalendarTest = TestFramework<Calendar>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn hold(record_id: &str, start: &str, end: &str) -> CalendarCommand {
    CalendarCommand::Hold {
        model: "day-offs".into(),
        record_id: record_id.into(),
        days: Days::new(start, end),
        at: t0(),
    }
}

fn held(record_id: &str, start: &str, end: &str) -> CalendarEvent {
    CalendarEvent::DaysHeld {
        model: "day-offs".into(),
        record_id: record_id.into(),
        days: Days::new(start, end),
        at: t0(),
    }
}

#[test]
fn days_another_record_holds_are_refused_whatever_the_overlap() {
    let given = || vec![held("r1", "2026-12-01", "2026-12-05")];
    for (start, end) in [
        ("2026-12-03", "2026-12-03"),
        ("2026-11-28", "2026-12-01"),
        ("2026-12-05", "2026-12-09"),
        ("2026-11-20", "2026-12-20"),
    ] {
        CalendarTest::with(())
            .given(given())
            .when(hold("r2", start, end))
            .then_expect_error(CalendarError::Overlaps);
    }
    CalendarTest::with(())
        .given(given())
        .when(hold("r2", "2026-12-06", "2026-12-06"))
        .then_expect_events(vec![held("r2", "2026-12-06", "2026-12-06")]);
}

#[test]
fn a_record_moves_within_its_own_days_and_holding_them_again_changes_nothing() {
    let given = || {
        vec![
            held("r1", "2026-12-01", "2026-12-05"),
            held("r2", "2026-12-07", "2026-12-08"),
        ]
    };
    CalendarTest::with(())
        .given(given())
        .when(hold("r1", "2026-12-02", "2026-12-06"))
        .then_expect_events(vec![held("r1", "2026-12-02", "2026-12-06")]);
    CalendarTest::with(())
        .given(given())
        .when(hold("r1", "2026-12-01", "2026-12-07"))
        .then_expect_error(CalendarError::Overlaps);
    CalendarTest::with(())
        .given(given())
        .when(hold("r1", "2026-12-01", "2026-12-05"))
        .then_expect_events(vec![]);
    CalendarTest::with(())
        .given(given())
        .when(hold("r3", "2026-12-09", "2026-12-08"))
        .then_expect_error(CalendarError::Reversed);
}

#[test]
fn freed_days_are_free_again() {
    let freed = CalendarEvent::DaysFreed {
        record_id: "r1".into(),
        at: t0(),
    };
    CalendarTest::with(())
        .given(vec![held("r1", "2026-12-01", "2026-12-05")])
        .when(CalendarCommand::Free {
            record_id: "r1".into(),
            at: t0(),
        })
        .then_expect_events(vec![freed.clone()]);
    CalendarTest::with(())
        .given(vec![held("r1", "2026-12-01", "2026-12-05"), freed])
        .when(hold("r2", "2026-12-03", "2026-12-04"))
        .then_expect_events(vec![held("r2", "2026-12-03", "2026-12-04")]);
    CalendarTest::with(())
        .given_no_previous_events()
        .when(CalendarCommand::Free {
            record_id: "r1".into(),
            at: t0(),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_day_off_may_not_end_before_it_starts() {
    let day_offs = model("day-offs").unwrap();
    let person = uuid::Uuid::new_v4().to_string();
    let input = |start: &str, end: &str| {
        json!({"person_id": person, "date": start, "end_date": end})
            .as_object()
            .unwrap()
            .clone()
    };
    let refused = RecordError::Refused {
        field: "end_date".into(),
        message: "The data conflicts with database integrity rules.",
    };
    assert_eq!(
        day_offs.prepare_create(&input("2026-12-12", "2026-12-10")),
        Err(refused.clone())
    );
    let fields = day_offs
        .prepare_create(&input("2026-12-06", "2026-12-06"))
        .unwrap();
    let later = json!({"date": "2026-12-08"}).as_object().unwrap().clone();
    assert_eq!(day_offs.prepare_update(&fields, &later), Err(refused));
    let both = json!({"date": "2026-12-07", "end_date": "2026-12-08"});
    let changes = day_offs
        .prepare_update(&fields, both.as_object().unwrap())
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        day_offs.periods.unwrap().of(&fields),
        Some((person.clone(), "2026-12-06".into(), "2026-12-06".into()))
    );
}
