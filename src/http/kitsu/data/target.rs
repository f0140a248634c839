//! What `/data/<route>` names: a registry model, or a typed view of one (`assets` are the
//! entities of kind `Asset`). A view narrows lists, answers 404 for a record of another kind,
//! reads its aliases as fields and may serve its records under its own `type`.
use axum::http::StatusCode;
use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::kitsu::{Model, Only, View, view};

use crate::http::kitsu::errors::{KitsuError, KitsuResult, METHOD_NOT_ALLOWED_MESSAGE};
use crate::services::error::AppError;
use crate::services::kitsu::Records;

#[derive(Clone, Copy)]
pub struct Target {
    pub model: &'static Model,
    pub view: Option<&'static View>,
}

impl Target {
    /// The model or view served at `route` (404 for neither).
    pub fn of(route: &str) -> KitsuResult<Target> {
        Ok(match view(route) {
            Some(view) => Target {
                model: Records::model(view.model)?,
                view: Some(view),
            },
            None => Target {
                model: Records::model(route)?,
                view: None,
            },
        })
    }

    /// Zou's views are read (and deleted) through their own routes, written through the
    /// model's: a write of a view is a 405.
    pub fn writable(self) -> KitsuResult<&'static Model> {
        match self.view {
            Some(_) => Err(KitsuError::message(
                StatusCode::METHOD_NOT_ALLOWED,
                METHOD_NOT_ALLOWED_MESSAGE,
            )),
            None => Ok(self.model),
        }
    }

    /// The records the view shows, as a read-model filter (all for a model).
    pub fn filter(self) -> Filter {
        let Some(view) = self.view else {
            return Filter::All;
        };
        let path = FieldPath::parse(view.only.field()).expect("field names are paths");
        match view.only {
            Only::Is(_, value) => Filter::Eq(path, json!(value)),
            Only::NoneOf(_, values) => Filter::Not(Box::new(Filter::In(
                path,
                values.iter().map(|v| json!(v)).collect(),
            ))),
        }
    }

    /// Refuses, as not found, a record the view does not show.
    pub fn check<'a>(self, field: impl Fn(&str) -> Option<&'a Value>) -> KitsuResult<()> {
        match self.view {
            Some(view) if !view.only.shows(field(view.only.field())) => {
                Err(AppError::NotFound(format!("not in {}", view.route)).into())
            }
            _ => Ok(()),
        }
    }

    /// A query string with the view's aliases read as the fields they name.
    pub fn query(self, pairs: Vec<(String, String)>) -> Vec<(String, String)> {
        let Some(view) = self.view else {
            return pairs;
        };
        pairs
            .into_iter()
            .map(
                |(key, value)| match view.aliases.iter().find(|(alias, _)| *alias == key) {
                    Some((_, field)) => (field.to_string(), value),
                    None => (key, value),
                },
            )
            .collect()
    }

    /// The `type` the view serves its records under, when not the stored one.
    pub fn type_name(self) -> Option<&'static str> {
        self.view.and_then(|v| v.type_name)
    }

    /// Whether lists of the view carry relations unless asked otherwise (Zou's asset types).
    pub fn relations(self) -> bool {
        self.view.is_some_and(|v| v.relations)
    }
}

/// A document served under `type_name`, when given.
pub fn renamed(doc: Value, type_name: Option<&str>) -> Value {
    match (type_name, doc) {
        (Some(name), Value::Object(mut map)) => {
            map.insert("type".into(), json!(name));
            Value::Object(map)
        }
        (_, doc) => doc,
    }
}
