//! Changing castings: an entity's replaced, one asset cast in (or out of) many entities.
use super::*;

/// A casting body's entries: those with `asset_id` and `nb_occurences` (Zou skips others).
fn wanted(body: &[Value]) -> KitsuResult<Vec<Wanted>> {
    let mut casting = Vec::new();
    for cast in body {
        let (Some(asset), Some(nb)) = (cast.get("asset_id"), cast.get("nb_occurences")) else {
            continue;
        };
        // Zou fails (500) on what is not an id; annals names the field.
        let asset_id = asset
            .as_str()
            .and_then(|a| uuid::Uuid::try_parse(a).ok())
            .map(|u| u.to_string())
            .ok_or_else(|| KitsuError::invalid_field("asset_id", "must be a UUID"))?;
        casting.push(Wanted {
            asset_id,
            nb_occurences: nb.clone(),
            label: cast.get("label").cloned().unwrap_or(json!("")),
        });
    }
    Ok(casting)
}

/// Plans with `change` on fresh read models and writes it, again when a stream moved.
///
/// The entities whose casting changes (`anchors`) are read from the log, with their versions,
/// before the read models are let catch up with the log's head and the plan is made: a change
/// that landed before is in the plan, and one that lands after moves an anchor, whose event
/// in this change is then appended on a taken version, so nothing is kept and it is planned
/// again. (Planned on read models alone, a change that landed between the plan and the
/// append left its links beside this one's: two castings merged.)
async fn change(
    state: &AppState,
    caller: &KitsuCaller,
    meta: RequestMeta,
    (project, also, anchors): (&str, &[String], &[String]),
    headers: &HeaderMap,
    change: impl Fn(&mut Breakdown) -> Result<(), AppError>,
) -> KitsuResult<(Breakdown, annals_contracts::Position)> {
    let metadata = meta.metadata(Some(&caller.user_id));
    // The log's head, whatever position the caller names: it is at least as new.
    let mut asked = headers.clone();
    asked.remove(crate::http::consistency::POSITION_HEADER);
    for attempt in 0..crate::es::commands::MAX_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(crate::es::commands::backoff(attempt)).await;
        }
        let mut held = std::collections::HashMap::new();
        for id in anchors {
            let versioned = state.records.records.versioned(id).await;
            held.insert(id.clone(), versioned.map_err(AppError::from)?);
        }
        let (mut plan, _) = plan_of(state, project, also, &asked).await?;
        change(&mut plan).map_err(KitsuError::crud)?;
        let written = state
            .records
            .write_breakdown(&plan, &held, &caller.user_id, &metadata)
            .await
            .map_err(KitsuError::crud)?;
        if let Some(position) = written {
            return Ok((plan, position));
        }
    }
    Err(AppError::Conflict.into())
}

#[utoipa::path(put, path = "/data/projects/{id}/entities/{entity_id}/casting",
    tag = "kitsu: data",
    description = "Also served under `/api`. Replaces an entity's casting by the body, an \
        array of `{asset_id, nb_occurences, label}` (entries without `asset_id` or \
        `nb_occurences` are skipped), and answers the body. The links are commands on their \
        records, appended together: an asset that leaves is deleted, one that stays keeps \
        its link (Zou makes every link anew), a new one is created. As Zou does: an asset \
        cast in a shot is cast in its episode (`data.auto`), and leaves it when no shot of \
        the episode casts it any more; an asset dropped from an episode leaves its shots; \
        the entity's `nb_entities_out` is its links to assets that are not canceled. An \
        asset of another project must be shared (`is_shared`; Zou casts any entity). \
        Production managers of the project's team.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("entity_id" = String, Path, description = "The entity's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The body"),
        (status = 400, description = "Not a JSON array; a malformed `asset_id` or `nb_occurences`; an unknown asset"),
        (status = 403, description = "Not a production manager of the team, an entity of another project, or an asset another project does not share"),
        (status = 404, description = "No such project or entity"),
    ))]
pub async fn replace_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, entity_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(list)) => list,
        Ok(_) => return Err(KitsuError::bad_request("Request body must be a JSON array")),
        Err(_) => {
            return Err(KitsuError::bad_request(
                "The browser (or proxy) sent a request that this server could not understand.",
            ));
        }
    };
    let project = project_access(&state, &caller, &id, Access::Manager, true).await?;
    let (entity_id, record) = entity(&state, ENTITIES, &entity_id).await?;
    belongs(&record, &project)?;
    let casting = wanted(&body)?;
    let also: Vec<String> = casting.iter().map(|w| w.asset_id.clone()).collect();
    let anchors = [entity_id.clone()];
    let scope = (project.as_str(), also.as_slice(), anchors.as_slice());
    let (_, position) = change(&state, &caller, meta, scope, &headers, |plan| {
        plan.replace(&entity_id, &casting)
    })
    .await?;
    Ok(with_position(
        Json(Value::Array(body)).into_response(),
        position,
    ))
}

/// Zou's `CastAssetSchema` refusal.
fn invalid(field: &str, problem: &str) -> KitsuError {
    KitsuError::validation(field, problem)
}

/// The body of a cast of one asset: `(entity ids, nb_occurences, label)`.
fn cast_body(body: &Bytes) -> KitsuResult<(Vec<String>, Option<Value>, Option<Value>)> {
    let body: Map<String, Value> = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let ids = match body.get("entity_ids") {
        None | Some(Value::Null) => return Err(invalid("entity_ids", "Field required")),
        Some(Value::Array(list)) if list.is_empty() => {
            return Err(invalid(
                "entity_ids",
                "List should have at least 1 item after validation, not 0",
            ));
        }
        Some(Value::Array(list)) => list
            .iter()
            .map(|id| {
                id.as_str()
                    .and_then(|s| uuid::Uuid::try_parse(s).ok())
                    .map(|u| u.to_string())
                    .ok_or_else(|| invalid("entity_ids", "Input should be a valid UUID"))
            })
            .collect::<KitsuResult<Vec<_>>>()?,
        Some(_) => return Err(invalid("entity_ids", "Input should be a valid list")),
    };
    let nb = match body.get("nb_occurences") {
        None | Some(Value::Null) => None,
        Some(n) => match n.as_i64() {
            Some(n) if n < 0 => {
                return Err(invalid(
                    "nb_occurences",
                    "Input should be greater than or equal to 0",
                ));
            }
            Some(n) => Some(json!(n)),
            None => return Err(invalid("nb_occurences", "Input should be a valid integer")),
        },
    };
    let label = match body.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(json!(s)),
        Some(_) => return Err(invalid("label", "Input should be a valid string")),
    };
    Ok((ids, nb, label))
}

#[utoipa::path(put, path = "/data/projects/{id}/entities/casting/assets/{asset_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Casts one asset in several entities of the \
        project without touching the rest of their casting: `{entity_ids, nb_occurences, \
        label}`; a count or label left out keeps the link's (1 and `\"\"` on a new link), \
        `nb_occurences: 0` takes the asset out (of an episode's shots too). Answers each \
        entity's casting after the change, keyed by entity id. Production managers of the \
        project's team.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("asset_id" = String, Path, description = "The asset's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The castings, by entity id"),
        (status = 400, description = "`Validation error.` naming `entity_ids`, `nb_occurences` or `label`"),
        (status = 403, description = "Not a production manager of the team, or an entity of another project"),
        (status = 404, description = "No such project, asset or entity"),
    ))]
pub async fn cast_asset(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, asset_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (ids, nb, label) = cast_body(&body)?;
    let project = project_access(&state, &caller, &id, Access::Manager, true).await?;
    let (asset_id, _) = entity(&state, "assets", &asset_id).await?;
    for entity_id in &ids {
        let (_, record) = entity(&state, ENTITIES, entity_id).await?;
        belongs(&record, &project)?;
    }
    let also = [asset_id.clone()];
    let scope = (project.as_str(), also.as_slice(), ids.as_slice());
    let (plan, position) = change(&state, &caller, meta, scope, &headers, |plan| {
        for entity_id in &ids {
            match &nb {
                Some(n) if *n == json!(0) => plan.uncast(entity_id, &asset_id),
                _ => plan.cast(entity_id, &asset_id, nb.clone(), label.clone())?,
            }
        }
        Ok(())
    })
    .await?;
    let types = type_names(&state).await?;
    let body: Map<String, Value> = ids
        .iter()
        .map(|id| (id.clone(), casting_of(&plan, id, &types)))
        .collect();
    Ok(with_position(
        Json(Value::Object(body)).into_response(),
        position,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_casting_body_keeps_the_entries_zou_keeps() {
        let asset = uuid::Uuid::new_v4().to_string();
        let body = vec![
            json!({"asset_id": asset, "nb_occurences": 2}),
            json!({"asset_id": asset}),
            json!({"nb_occurences": 1}),
            json!({"asset_id": asset, "nb_occurences": 1, "label": "fixed"}),
        ];
        let casting = wanted(&body).unwrap();
        assert_eq!(casting.len(), 2);
        assert_eq!(casting[0].label, json!(""));
        assert_eq!(casting[1].label, json!("fixed"));
        assert!(wanted(&[json!({"asset_id": "nope", "nb_occurences": 1})]).is_err());
    }

    #[test]
    fn a_cast_body_is_validated_as_zou_validates_it() {
        let id = uuid::Uuid::new_v4().to_string();
        let body = |v: Value| Bytes::from(v.to_string());
        assert!(cast_body(&body(json!({}))).is_err());
        assert!(cast_body(&body(json!({"entity_ids": []}))).is_err());
        assert!(cast_body(&body(json!({"entity_ids": [id], "nb_occurences": -1}))).is_err());
        let (ids, nb, label) =
            cast_body(&body(json!({"entity_ids": [id], "label": "kept"}))).unwrap();
        assert_eq!((ids.len(), nb, label), (1, None, Some(json!("kept"))));
    }
}
