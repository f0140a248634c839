//! A person's calendar as gazu's `person` module reads it: what its day offs
//! (`person_day_offs`) and time spents (`person_time_spents`) routes share: the periods they
//! ask for (a year, a month, an ISO week) as range filters of the read models, and who shares
//! a project or a department with whom.
use axum::http::StatusCode;
use chrono::{Datelike, Months, NaiveDate, Weekday};
use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::identity::User;

use super::scan;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;
use crate::services::kitsu::Records;

pub(super) fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

/// A person's departments (ids), as their account holds them.
pub(super) fn departments(user: &User) -> Vec<Value> {
    user.person_fields()
        .get("departments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The ids of the projects (whatever their status) whose team holds all of `people`.
pub(super) async fn shared_projects(state: &AppState, people: &[&str]) -> KitsuResult<Vec<Value>> {
    let projects = Records::model("projects")?;
    let teams = people
        .iter()
        .map(|p| Filter::Contains(path("team"), json!(p)))
        .collect();
    let rows = scan(state, projects.collection, Filter::And(teams), &[]).await?;
    Ok(rows.into_iter().map(|(id, _)| json!(id)).collect())
}

/// A number of a date path, or 400 naming it (Zou fails on these with a 500).
fn number(field: &str, value: &str) -> KitsuResult<u32> {
    value
        .parse::<u32>()
        .map_err(|_| KitsuError::invalid_field(field, "must be a whole number"))
}

/// `[first, next)` days of a year, month or ISO week.
#[derive(Clone, Copy)]
pub(super) struct Period {
    first: NaiveDate,
    next: NaiveDate,
}

impl Period {
    pub(super) fn year(year: &str) -> KitsuResult<Period> {
        let first = i32::try_from(number("year", year)?)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1))
            .filter(|d| d.year() <= 9999)
            .ok_or_else(|| KitsuError::invalid_field("year", "must be a year"))?;
        Period::from(first, Months::new(12), "year")
    }

    pub(super) fn month(year: &str, month: &str) -> KitsuResult<Period> {
        let year = i32::try_from(number("year", year)?)
            .map_err(|_| KitsuError::invalid_field("year", "must be a year"))?;
        let first = NaiveDate::from_ymd_opt(year, number("month", month)?, 1)
            .ok_or_else(|| KitsuError::invalid_field("month", "must be a month (1 to 12)"))?;
        Period::from(first, Months::new(1), "month")
    }

    pub(super) fn week(year: &str, week: &str) -> KitsuResult<Period> {
        let year = i32::try_from(number("year", year)?)
            .map_err(|_| KitsuError::invalid_field("year", "must be a year"))?;
        let first = NaiveDate::from_isoywd_opt(year, number("week", week)?, Weekday::Mon)
            .ok_or_else(|| KitsuError::invalid_field("week", "must be a week of the year"))?;
        Ok(Period {
            first,
            next: first + chrono::Duration::days(7),
        })
    }

    fn from(first: NaiveDate, length: Months, field: &str) -> KitsuResult<Period> {
        let next = first
            .checked_add_months(length)
            .ok_or_else(|| KitsuError::invalid_field(field, "is out of range"))?;
        Ok(Period { first, next })
    }

    /// The records whose days `start..=end` (dates stored as `YYYY-MM-DD`, which order as
    /// text) meet the period.
    pub(super) fn meets(&self, start: &str, end: &str) -> Filter {
        Filter::And(vec![
            range(start, None, Some(day(self.next))),
            range(end, Some(day(self.first)), None),
        ])
    }

    /// The records whose day `field` is in the period.
    pub(super) fn holds(&self, field: &str) -> Filter {
        range(field, Some(day(self.first)), Some(day(self.next)))
    }
}

pub(super) fn day(date: NaiveDate) -> Value {
    json!(date.format("%Y-%m-%d").to_string())
}

/// `from <= field < until`.
pub(super) fn range(field: &str, from: Option<Value>, until: Option<Value>) -> Filter {
    Filter::Range {
        path: path(field),
        gt: None,
        gte: from,
        lt: until,
        lte: None,
    }
}

pub(super) fn date_of(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

/// Zou's `WrongParameterException`: 400 `{error, message, data: null}`.
pub(super) fn wrong(message: impl Into<String>) -> KitsuError {
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": message.into(), "data": null}),
    )
}
