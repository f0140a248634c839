//! A second copy of the entity links (Zou's casting) with their exact creation and change
//! times: Zou's project list of links shows `created_at` to the microsecond and pages by it
//! (`cursor_created_at`), while the generic documents keep Zou's whole seconds.
use annals_contracts::ViewOp;
use annals_domain::kitsu::RecordEvent;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The model whose records are copied.
pub const LINKS_MODEL: &str = "entity-links";

/// The collection of the copies.
pub const EXACT_LINKS: &str = "kitsu_entity_links_exact";

/// Zou's time with microseconds (`%Y-%m-%dT%H:%M:%S.%f`, always six digits).
pub fn exact_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// What the event does to the copy of the link `id`.
pub fn exact_link_op(id: &str, event: &RecordEvent) -> ViewOp {
    match event {
        RecordEvent::RecordCreated { fields, at, .. } => {
            let mut doc: Map<String, Value> = fields.clone().into_iter().collect();
            doc.insert("id".into(), json!(id));
            doc.insert("type".into(), json!("EntityLink"));
            doc.insert("created_at".into(), json!(exact_datetime(*at)));
            doc.insert("updated_at".into(), json!(exact_datetime(*at)));
            ViewOp::upsert(EXACT_LINKS, id, Value::Object(doc))
        }
        RecordEvent::RecordUpdated { changes, at, .. } => {
            let mut patch: Map<String, Value> = changes
                .iter()
                .map(|change| (change.field.clone(), change.new.clone()))
                .collect();
            patch.insert("updated_at".into(), json!(exact_datetime(*at)));
            ViewOp::merge(EXACT_LINKS, id, Value::Object(patch))
        }
        RecordEvent::RecordDeleted { .. } => ViewOp::delete(EXACT_LINKS, id),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_keep_six_digits_of_seconds() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 16, 23, 38).unwrap();
        assert_eq!(exact_datetime(at), "2026-11-28T16:23:38.000000");
        let at = at + chrono::Duration::microseconds(886_131);
        assert_eq!(exact_datetime(at), "2026-11-28T16:23:38.886131");
    }
}
