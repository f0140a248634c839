//! The casting lists: by entity of a project, a sequence, an episode or an asset type, where
//! an asset is cast, and a shot's assets and asset types.
use super::*;

#[utoipa::path(get, path = "/data/projects/{id}/episodes/casting", tag = "kitsu: data",
    description = "Also served under `/api`. The castings of the project's entities, keyed \
        by entity id, each `[{asset_id, name, asset_name, asset_type_name, preview_file_id, \
        nb_occurences, label, is_shared, project_id}]` (Zou 1.0.97 keys every casting \
        entity of the project here, not only episodes). The project's team (vendors \
        refused); an unknown project is `{}` for studio managers.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    responses(
        (status = 200, description = "The castings"),
        (status = 403, description = "Not in the project's team, or a vendor"),
        (status = 404, description = "No such project"),
    ))]
pub async fn episodes_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = project_access(&state, &caller, &id, Access::Member, false).await?;
    let (plan, freshness) = plan_of(&state, &project, &[], &headers).await?;
    let types = type_names(&state).await?;
    let body = castings(
        &plan,
        &types,
        EPISODES_KEYS,
        |holder| holder["project_id"] == json!(project),
        |_| vec![],
        |_| Map::new(),
    );
    Ok(ok(body, freshness))
}

/// The castings of the shots `within` keeps (each with its sequence's name), ordered by
/// sequence name, shot name, then the assets' order (Zou's `get_sequence_casting`).
fn shots_casting(
    plan: &Breakdown,
    types: &HashMap<String, Value>,
    within: impl Fn(&Value, &Value) -> bool,
) -> Value {
    let sequence_of = |holder: &Value| {
        holder["parent_id"]
            .as_str()
            .and_then(|p| plan.entities.get(p))
            .cloned()
    };
    castings(
        plan,
        types,
        SEQUENCE_KEYS,
        |holder| sequence_of(holder).is_some_and(|sequence| within(holder, &sequence)),
        |holder| {
            let sequence = sequence_of(holder).unwrap_or(Value::Null);
            vec![text(&sequence["name"]), text(&holder["name"])]
        },
        |holder| {
            let sequence = sequence_of(holder).unwrap_or(Value::Null);
            Map::from_iter([("sequence_name".to_string(), sequence["name"].clone())])
        },
    )
}

#[utoipa::path(get, path = "/data/projects/{id}/sequences/{sequence_id}/casting",
    tag = "kitsu: data",
    description = "Also served under `/api`. The castings of a sequence's shots (`all`: of \
        every shot of the project), keyed by shot id, each `[{asset_id, name, asset_name, \
        asset_type_name, sequence_name, preview_file_id, nb_occurences, label, is_shared, \
        project_id}]`. The project's team (vendors refused).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("sequence_id" = String, Path, description = "The sequence's UUID, or `all`"),
    ),
    responses(
        (status = 200, description = "The castings"),
        (status = 403, description = "Not in the project's team, a vendor, or a sequence of another project"),
        (status = 404, description = "No such project or sequence"),
    ))]
pub async fn sequence_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, sequence_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = project_access(&state, &caller, &id, Access::Member, false).await?;
    let sequence = if sequence_id == "all" {
        None
    } else {
        let (sequence_id, record) = entity(&state, "sequences", &sequence_id).await?;
        belongs(&record, &project)?;
        Some(sequence_id)
    };
    let (plan, freshness) = plan_of(&state, &project, &[], &headers).await?;
    let types = type_names(&state).await?;
    let body = shots_casting(&plan, &types, |shot, parent| match &sequence {
        Some(id) => parent["id"] == json!(id),
        None => shot["project_id"] == json!(project),
    });
    Ok(ok(body, freshness))
}

#[utoipa::path(get, path = "/data/projects/{id}/episodes/{episode_id}/sequences/all/casting",
    tag = "kitsu: data",
    description = "Also served under `/api`. The castings of the shots of an episode's \
        sequences, keyed by shot id, in the shape of a sequence's (`main`: `{}`). The \
        project's team (vendors refused).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("episode_id" = String, Path, description = "The episode's UUID"),
    ),
    responses(
        (status = 200, description = "The castings"),
        (status = 403, description = "Not in the project's team, or a vendor"),
        (status = 404, description = "No such project"),
    ))]
pub async fn episode_shots_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, episode_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = project_access(&state, &caller, &id, Access::Member, false).await?;
    let (plan, freshness) = plan_of(&state, &project, &[], &headers).await?;
    if episode_id == "main" {
        return Ok(ok(json!({}), freshness));
    }
    let types = type_names(&state).await?;
    let body = shots_casting(&plan, &types, |shot, sequence| {
        shot["project_id"] == json!(project) && sequence["parent_id"] == json!(episode_id)
    });
    Ok(ok(body, freshness))
}

#[utoipa::path(get, path = "/data/projects/{id}/asset-types/{type_id}/casting",
    tag = "kitsu: data",
    description = "Also served under `/api`. The castings of the project's assets of an \
        asset type, keyed by asset id, each `[{asset_id, name, asset_name, asset_type_name, \
        preview_file_id, nb_occurences, label}]`. The project's team (vendors refused).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("type_id" = String, Path, description = "The asset type's UUID"),
    ),
    responses(
        (status = 200, description = "The castings"),
        (status = 403, description = "Not in the project's team, or a vendor"),
        (status = 404, description = "No such project or asset type"),
    ))]
pub async fn asset_type_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, type_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = project_access(&state, &caller, &id, Access::Member, false).await?;
    let (type_id, _) = entity(&state, "asset-types", &type_id).await?;
    let (plan, freshness) = plan_of(&state, &project, &[], &headers).await?;
    let types = type_names(&state).await?;
    let body = castings(
        &plan,
        &types,
        ASSET_TYPE_KEYS,
        |holder| {
            holder["project_id"] == json!(project) && holder["entity_type_id"] == json!(type_id)
        },
        |_| vec![],
        |_| Map::new(),
    );
    Ok(ok(body, freshness))
}

/// The entity documents of `ids`, by id, from the read model.
async fn docs(state: &AppState, ids: Vec<Value>) -> KitsuResult<HashMap<String, Value>> {
    let entities = Records::model(ENTITIES)?;
    let filter = annals_contracts::filter::Filter::In(
        annals_contracts::filter::FieldPath::parse("id").expect("a path"),
        ids,
    );
    Ok(scan(state, entities.collection, filter, &[])
        .await?
        .into_iter()
        .collect())
}

/// The links of the read model whose `field` is `id`, as `(in, out, document)`.
async fn links_where(state: &AppState, field: &str, id: &str) -> KitsuResult<Vec<Value>> {
    let links = Records::model(LINKS)?;
    let filter = annals_contracts::filter::Filter::Eq(
        annals_contracts::filter::FieldPath::parse(field).expect("a path"),
        json!(id),
    );
    Ok(scan(state, links.collection, filter, &["created_at"])
        .await?
        .into_iter()
        .map(|(_, doc)| doc)
        .collect())
}

#[utoipa::path(get, path = "/data/assets/{id}/cast-in", tag = "kitsu: data",
    description = "Also served under `/api`. Where an asset is cast: first the entities with \
        a parent (shots) that are not canceled, `{shot_id, shot_name, sequence_name, \
        episode_id, episode_name, preview_file_id, nb_occurences}` ordered by episode, \
        sequence and shot name (`episode_id` is the string `\"None\"` without episode, as Zou \
        writes it), then the assets, `{asset_id, asset_name, asset_type_name, \
        preview_file_id, nb_occurences}` ordered by type and name. The project's team; \
        vendors on assets of their tasks.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The asset's UUID")),
    responses(
        (status = 200, description = "The entities"),
        (status = 403, description = "Not in the project's team"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn cast_in(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (id, asset) = entity(&state, "assets", &id).await?;
    let project = text(asset.fields.get("project_id").unwrap_or(&Value::Null));
    project_access(&state, &caller, &project, Access::Member, true).await?;
    entity_access(&state, &caller, &id, &asset).await?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let links = links_where(&state, "entity_out_id", &id).await?;
    let holders = docs(
        &state,
        links.iter().map(|l| l["entity_in_id"].clone()).collect(),
    )
    .await?;
    let parents: Vec<Value> = holders.values().map(|h| h["parent_id"].clone()).collect();
    let mut around = docs(&state, parents).await?;
    let grandparents: Vec<Value> = around.values().map(|s| s["parent_id"].clone()).collect();
    around.extend(docs(&state, grandparents).await?);
    let types = type_names(&state).await?;
    let mut shots = Vec::new();
    let mut assets = Vec::new();
    for link in &links {
        let Some(holder) = link["entity_in_id"].as_str().and_then(|h| holders.get(h)) else {
            continue;
        };
        if holder["canceled"] == json!(true) {
            continue;
        }
        if let Some(sequence) = holder["parent_id"].as_str().and_then(|p| around.get(p)) {
            let episode = sequence["parent_id"].as_str().and_then(|e| around.get(e));
            let order = [
                episode.map(|e| text(&e["name"])),
                Some(text(&sequence["name"])),
                Some(text(&holder["name"])),
            ];
            shots.push((
                order,
                json!({
                    "shot_id": holder["id"],
                    "shot_name": holder["name"],
                    "sequence_name": sequence["name"],
                    "episode_id": episode.map_or(json!("None"), |e| e["id"].clone()),
                    "episode_name": episode.map_or(Value::Null, |e| e["name"].clone()),
                    "preview_file_id": holder["preview_file_id"],
                    "nb_occurences": link["nb_occurences"],
                }),
            ));
        }
        if holder["type"] == "Asset" {
            let type_name = types
                .get(holder["entity_type_id"].as_str().unwrap_or_default())
                .cloned()
                .unwrap_or(Value::Null);
            assets.push((
                (text(&type_name), text(&holder["name"])),
                json!({
                    "asset_id": holder["id"],
                    "asset_name": holder["name"],
                    "asset_type_name": type_name,
                    "preview_file_id": holder["preview_file_id"],
                    "nb_occurences": link["nb_occurences"],
                }),
            ));
        }
    }
    // Postgres puts nulls last in an ascending order.
    shots.sort_by(|a, b| {
        let key = |o: &[Option<String>; 3]| {
            o.iter()
                .map(|v| (v.is_none(), v.clone().unwrap_or_default()))
                .collect::<Vec<_>>()
        };
        key(&a.0).cmp(&key(&b.0))
    });
    assets.sort_by(|a, b| a.0.cmp(&b.0));
    let body: Vec<Value> = shots
        .into_iter()
        .map(|(_, v)| v)
        .chain(assets.into_iter().map(|(_, v)| v))
        .collect();
    Ok(ok(Value::Array(body), freshness))
}

/// The live shot `id` the caller may read, with the assets it casts (in the order cast).
async fn shot_assets(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
    headers: &HeaderMap,
    vendors_by_entity: bool,
) -> KitsuResult<(Vec<Value>, crate::http::consistency::Freshness)> {
    let (id, shot) = entity(state, "shots", id).await?;
    let project = text(shot.fields.get("project_id").unwrap_or(&Value::Null));
    project_access(state, caller, &project, Access::Member, true).await?;
    if vendors_by_entity {
        entity_access(state, caller, &id, &shot).await?;
    }
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let links = links_where(state, "entity_in_id", &id).await?;
    let outs: Vec<Value> = links.iter().map(|l| l["entity_out_id"].clone()).collect();
    let found = docs(state, outs.clone()).await?;
    let assets = outs
        .iter()
        .filter_map(|out| found.get(out.as_str()?).cloned())
        .collect();
    Ok((assets, freshness))
}

#[utoipa::path(get, path = "/data/shots/{id}/assets", tag = "kitsu: data",
    description = "Also served under `/api`. The entities a shot casts, as `Asset` records \
        without relations (canceled ones too). The project's team; vendors on shots of their \
        tasks.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The shot's UUID")),
    responses(
        (status = 200, description = "The assets"),
        (status = 403, description = "Not in the project's team"),
        (status = 404, description = "No such shot"),
    ))]
pub async fn shot_assets_list(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let entities = Records::model(ENTITIES)?;
    let (assets, freshness) = shot_assets(&state, &caller, &id, &headers, true).await?;
    let body = assets
        .into_iter()
        .map(|doc| renamed(without_relations(entities, doc), Some("Asset")))
        .collect();
    Ok(ok(Value::Array(body), freshness))
}

#[utoipa::path(get, path = "/data/shots/{id}/asset-types", tag = "kitsu: data",
    description = "Also served under `/api`. The asset types of the entities a shot casts, \
        each once, as `AssetType` records without relations, by name. The project's team.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The shot's UUID")),
    responses(
        (status = 200, description = "The asset types"),
        (status = 403, description = "Not in the project's team"),
        (status = 404, description = "No such shot"),
    ))]
pub async fn shot_asset_types(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (assets, freshness) = shot_assets(&state, &caller, &id, &headers, false).await?;
    let mut ids: Vec<Value> = Vec::new();
    for asset in &assets {
        if !ids.contains(&asset["entity_type_id"]) {
            ids.push(asset["entity_type_id"].clone());
        }
    }
    let types = Records::model("entity-types")?;
    let filter = annals_contracts::filter::Filter::In(
        annals_contracts::filter::FieldPath::parse("id").expect("a path"),
        ids,
    );
    let body = scan(&state, types.collection, filter, &["name"])
        .await?
        .into_iter()
        .map(|(_, doc)| renamed(without_relations(types, doc), Some("AssetType")))
        .collect();
    Ok(ok(Value::Array(body), freshness))
}
