//! Zou's short lists of a project's records (its playlists): a plain array holding one page of
//! a fixed size (`page`, 1 when absent), newest change first unless `sort_by` names a field,
//! each record without its heavy keys.
use serde_json::Value;

use annals_contracts::filter::{Query, Sort};
use annals_domain::kitsu::Model;

use super::query::{ListOptions, keep_fields};
use super::shape::without_relations;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;
use crate::services::error::AppError;

/// How a short list pages and shapes its records.
pub struct Paged {
    /// Records per page (Zou's `PLAYLISTS_PAGE_SIZE`).
    pub size: u32,
    /// Keys the list leaves out.
    pub omit: &'static [&'static str],
    /// `(list, key, as)`: the `key` of the first element of the list field `list`, added as
    /// `as` when set (Zou's `first_preview_file_id`).
    pub first: Option<(&'static str, &'static str, &'static str)>,
}

/// The sort `sort_by` asks: a field of the model (dates newest first, others ascending), else
/// the newest change first, as Zou's `apply_sort_by`.
fn sort(model: &Model, sort_by: Option<&str>) -> Vec<Sort> {
    let spec = match sort_by {
        Some(field @ ("created_at" | "updated_at")) => format!("-{field}"),
        Some(field) if model.field(field).is_some() => field.to_string(),
        _ => "-updated_at".into(),
    };
    [spec.as_str(), "-created_at"]
        .iter()
        .map(|s| Sort::parse(s).expect("field names sort"))
        .collect()
}

/// The page `page` asks: 1 when absent or below 1.
fn page_number(pairs: &[(String, String)]) -> KitsuResult<u64> {
    match pairs.iter().find(|(k, _)| k == "page") {
        None => Ok(1),
        Some((_, v)) => v
            .trim()
            .parse::<i64>()
            .map(|p| p.max(1) as u64)
            .map_err(|_| KitsuError::bad_request("page must be an integer.")),
    }
}

/// The record as the short list shows it.
fn shaped(model: &Model, paged: &Paged, doc: Value, options: &ListOptions) -> Value {
    let Value::Object(mut map) = without_relations(model, doc) else {
        return Value::Null;
    };
    if let Some((list, key, name)) = paged.first
        && let Some(value) = map
            .get(list)
            .and_then(|l| l.get(0))
            .and_then(|first| first.get(key))
            .filter(|v| !v.is_null())
            .cloned()
    {
        map.insert(name.into(), value);
    }
    for key in paged.omit {
        map.remove(*key);
    }
    keep_fields(Value::Object(map), &options.fields)
}

/// One page of the records of `model` matching `options`, as a plain array.
pub async fn page(
    state: &AppState,
    model: &Model,
    options: &ListOptions,
    pairs: &[(String, String)],
    paged: &Paged,
) -> KitsuResult<Value> {
    let sort_by = pairs
        .iter()
        .find(|(k, _)| k == "sort_by")
        .map(|(_, v)| v.as_str());
    let mut query = Query::new(options.filter.clone(), sort(model, sort_by), paged.size);
    query.offset = (page_number(pairs)? - 1) * u64::from(paged.size);
    let found = state
        .gate
        .views
        .find(model.collection, &query)
        .await
        .map_err(AppError::from)?;
    Ok(Value::Array(
        found
            .items
            .into_iter()
            .map(|(_, doc)| shaped(model, paged, doc, options))
            .collect(),
    ))
}

/// Zou's playlist lists: 20 a page, without the entries and build jobs, naming the first
/// entry's preview.
pub const PLAYLIST_PAGES: Paged = Paged {
    size: 20,
    omit: &["shots", "build_jobs"],
    first: Some(("shots", "preview_file_id", "first_preview_file_id")),
};

#[cfg(test)]
mod tests {
    use annals_domain::kitsu::model;
    use serde_json::{Map, json};

    use super::*;

    const SHORT: Paged = Paged {
        size: 20,
        omit: &["shots"],
        first: Some(("shots", "preview_file_id", "first_preview_file_id")),
    };

    fn options() -> ListOptions {
        super::super::query::list_options(model("playlists").unwrap(), &[]).unwrap()
    }

    #[test]
    fn a_short_list_drops_heavy_keys_and_names_the_first_preview() {
        let playlists = model("playlists").unwrap();
        let doc = json!({
            "id": "p", "type": "Playlist", "name": "Dailies", "build_jobs": [],
            "shots": [{"entity_id": "e", "preview_file_id": "f"}],
        });
        let short = shaped(playlists, &SHORT, doc, &options());
        let mut expected = Map::new();
        for (k, v) in [
            ("id", json!("p")),
            ("type", json!("Playlist")),
            ("name", json!("Dailies")),
            ("first_preview_file_id", json!("f")),
        ] {
            expected.insert(k.into(), v);
        }
        assert_eq!(short, Value::Object(expected));
        let unpinned = json!({"id": "p", "shots": [{"entity_id": "e", "preview_file_id": null}]});
        assert_eq!(
            shaped(playlists, &SHORT, unpinned, &options()),
            json!({"id": "p"})
        );
    }

    #[test]
    fn pages_and_sorts_are_read_as_zou_reads_them() {
        let pairs = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(page_number(&[]).unwrap(), 1);
        assert_eq!(page_number(&pairs("page", "0")).unwrap(), 1);
        assert_eq!(page_number(&pairs("page", "3")).unwrap(), 3);
        assert!(page_number(&pairs("page", "x")).is_err());
        let playlists = model("playlists").unwrap();
        let spec = |s: Option<&str>| format!("{:?}", sort(playlists, s));
        assert_eq!(spec(None), spec(Some("nothing")));
        assert_eq!(spec(Some("updated_at")), spec(None));
        assert_ne!(spec(Some("name")), spec(None));
    }
}
