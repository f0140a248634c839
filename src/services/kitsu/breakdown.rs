//! Changing a casting (Zou's breakdown): an entity's casting replaced, one asset cast in or
//! out of entities. The change is planned on the project's links as the read models hold
//! them, with the side effects Zou applies (an asset cast in a shot is cast in its episode
//! too, marked `data.auto`, and leaves it when no shot of the episode casts it any more; an
//! asset dropped from an episode leaves its shots; each changed entity's `nb_entities_out`
//! is its live links), then written as commands on the link records (created with their
//! unique claim, updated, deleted and released) and on the entities, appended together.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use serde_json::{Map, Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::kitsu::{Record, RecordCommand, UniqueClaimCommand};

use super::Records;
use super::casting::LINKS;
use super::records::{held_by, unique_claim_id};
use super::references::REFERENCED;
use crate::es::commands::Metadata;
use crate::services::error::AppError;

const ENTITIES: &str = "entities";

/// A command prepared on a stream another change has moved (a link deleted meanwhile, a
/// pair's claim passed to another link) is `None`: the change is planned again.
fn unless_gone<T>(prepared: Result<T, AppError>) -> Result<Option<T>, AppError> {
    match prepared {
        Ok(prepared) => Ok(Some(prepared)),
        Err(AppError::NotFound(_) | AppError::Conflict) => Ok(None),
        Err(other) => Err(other),
    }
}

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

/// A link's own values (what a casting sets).
#[derive(Debug, Clone, PartialEq)]
pub struct Cast {
    pub nb_occurences: Value,
    pub label: Value,
    pub data: Value,
}

impl Cast {
    fn of(fields: &Value) -> Cast {
        Cast {
            nb_occurences: fields["nb_occurences"].clone(),
            label: fields["label"].clone(),
            data: fields["data"].clone(),
        }
    }

    fn is_auto(&self) -> bool {
        self.data.get("auto").and_then(Value::as_bool) == Some(true)
    }
}

/// One entry of a casting body (Zou's `{asset_id, nb_occurences, label}`).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub asset_id: String,
    pub nb_occurences: Value,
    pub label: Value,
}

/// The links of a project's entities before and after a change, with the entities they
/// join.
pub struct Breakdown {
    project: String,
    /// The read models' links, by `(entity_in_id, entity_out_id)`: id and document.
    before: BTreeMap<(String, String), (String, Value)>,
    after: BTreeMap<(String, String), Cast>,
    /// The project's entities, and those its links cast from elsewhere, by id.
    pub entities: HashMap<String, Value>,
    /// The entities whose casting the change is about: each gets an event (its new count,
    /// or a touch), so that two changes of one casting cannot both land.
    touched: BTreeSet<String>,
    /// Entities whose count may move by the change of others (an episode, its shots).
    recounted: BTreeSet<String>,
    /// The links in the order the change cast them (an episode's mirror before the shot's
    /// link, as Zou inserts them).
    order: Vec<(String, String)>,
}

impl Records {
    /// The breakdown of the project `project_id` as the read models hold it (the caller has
    /// let them catch up with the log), knowing besides the entities `also` (assets a change
    /// casts, which may be shared by another project).
    pub async fn breakdown(
        &self,
        project_id: &str,
        also: &[String],
    ) -> Result<Breakdown, AppError> {
        let entities = Self::model(ENTITIES)?;
        let links = Self::model(LINKS)?;
        let docs = self
            .every(
                entities.collection,
                Filter::Eq(path("project_id"), json!(project_id)),
            )
            .await?;
        let mut by_id: HashMap<String, Value> = docs
            .into_iter()
            .filter_map(|doc| Some((doc["id"].as_str()?.to_string(), doc)))
            .collect();
        let ids: Vec<Value> = by_id.keys().map(|id| json!(id)).collect();
        let found = self
            .every(links.collection, Filter::In(path("entity_in_id"), ids))
            .await?;
        let mut before = BTreeMap::new();
        let mut outside = Vec::new();
        for link in found {
            let (Some(id), Some(from), Some(to)) = (
                link["id"].as_str(),
                link["entity_in_id"].as_str(),
                link["entity_out_id"].as_str(),
            ) else {
                continue;
            };
            if !by_id.contains_key(to) {
                outside.push(json!(to));
            }
            before.insert((from.to_string(), to.to_string()), (id.to_string(), link));
        }
        outside.extend(
            also.iter()
                .filter(|id| !by_id.contains_key(*id))
                .map(|id| json!(id)),
        );
        if !outside.is_empty() {
            for doc in self
                .every(entities.collection, Filter::In(path("id"), outside))
                .await?
            {
                if let Some(id) = doc["id"].as_str() {
                    by_id.insert(id.to_string(), doc);
                }
            }
        }
        let after = before
            .iter()
            .map(|(key, (_, doc))| (key.clone(), Cast::of(doc)))
            .collect();
        Ok(Breakdown {
            project: project_id.to_string(),
            before,
            after,
            entities: by_id,
            touched: BTreeSet::new(),
            order: Vec::new(),
            recounted: BTreeSet::new(),
        })
    }

    /// Writes what `plan` changed: the position of the append, `None` when a stream it
    /// touches moved meanwhile (nothing is kept; plan again on fresh read models).
    /// The entities of `anchored` are changed on the state and version read there: the append
    /// keeps nothing if one moved since.
    pub async fn write_breakdown(
        &self,
        plan: &Breakdown,
        anchored: &HashMap<String, (Record, usize)>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Option<Position>, AppError> {
        let links = Self::model(LINKS)?;
        let at = Utc::now();
        let mut events = Vec::new();
        for (key, (id, doc)) in &plan.before {
            if plan.after.contains_key(key) {
                continue;
            }
            let delete = RecordCommand::Delete {
                model: LINKS.into(),
                by: by.into(),
                at,
            };
            let deleted = self.records.prepare(id, delete, metadata, false).await;
            let Some(deleted) = unless_gone(deleted.map_err(AppError::from))? else {
                return Ok(None);
            };
            events.extend(deleted.events);
            let fields = doc
                .as_object()
                .map(|m| m.clone().into_iter().collect())
                .unwrap_or_default();
            for held in held_by(links, &fields) {
                let release = UniqueClaimCommand::Release {
                    record_id: id.clone(),
                    at,
                };
                let stream = unique_claim_id(links.route, held.field, &held.key);
                let released = self.claims.prepare(&stream, release, metadata, false).await;
                // Held by another link of the pair since: another change came first.
                let Some(released) = unless_gone(released.map_err(AppError::from))? else {
                    return Ok(None);
                };
                events.extend(released.events);
            }
        }
        // Links made together get distinct times, in the order cast: a list after a creation
        // time (Zou's cursor) never splits a tie.
        let mut keys: Vec<&(String, String)> = Vec::new();
        let mut seen = BTreeSet::new();
        for key in plan.order.iter().chain(plan.after.keys()) {
            if plan.after.contains_key(key) && seen.insert(key) {
                keys.push(key);
            }
        }
        let mut made = 0;
        for key in keys {
            let (from, to) = key;
            let cast = &plan.after[key];
            let mut input = Map::new();
            input.insert("nb_occurences".into(), cast.nb_occurences.clone());
            input.insert("label".into(), cast.label.clone());
            input.insert("data".into(), cast.data.clone());
            match plan.before.get(&(from.clone(), to.clone())) {
                Some((_, doc)) if Cast::of(doc) == *cast => {}
                Some((id, _)) => {
                    let update = RecordCommand::Update {
                        model: LINKS.into(),
                        input,
                        by: by.into(),
                        at,
                    };
                    let updated = self.records.prepare(id, update, metadata, false).await;
                    let Some(updated) = unless_gone(updated.map_err(AppError::from))? else {
                        return Ok(None);
                    };
                    events.extend(updated.events);
                }
                None => {
                    let at = at + chrono::Duration::microseconds(made);
                    made += 1;
                    let id = uuid::Uuid::new_v4().to_string();
                    input.insert("entity_in_id".into(), json!(from));
                    input.insert("entity_out_id".into(), json!(to));
                    let fields = links.prepare_create(&input).map_err(AppError::from)?;
                    for held in held_by(links, &fields) {
                        let claim = UniqueClaimCommand::Claim {
                            model: links.route.into(),
                            field: held.field.into(),
                            value: held.key.clone(),
                            record_id: id.clone(),
                            at,
                        };
                        let stream = unique_claim_id(links.route, held.field, &held.key);
                        match self.claims.prepare(&stream, claim, metadata, false).await {
                            Ok(claimed) => events.extend(claimed.events),
                            // Another writer cast it meanwhile: plan again.
                            Err(e) => match AppError::from(e) {
                                AppError::Duplicate { .. } | AppError::Conflict => return Ok(None),
                                other => return Err(other),
                            },
                        }
                    }
                    let create = RecordCommand::Create {
                        model: LINKS.into(),
                        input,
                        by: by.into(),
                        at,
                        subject: None,
                    };
                    events.extend(
                        self.records
                            .prepare(&id, create, metadata, true)
                            .await?
                            .events,
                    );
                }
            }
        }
        for id in plan.touched.union(&plan.recounted) {
            let Some(doc) = plan.entities.get(id) else {
                continue;
            };
            let count = json!(plan.live_count(id));
            let command = if doc.get("nb_entities_out") != Some(&count) {
                RecordCommand::Update {
                    model: ENTITIES.into(),
                    input: Map::from_iter([("nb_entities_out".to_string(), count)]),
                    by: by.into(),
                    at,
                }
            } else if plan.touched.contains(id) {
                RecordCommand::Touch {
                    model: ENTITIES.into(),
                    by: by.into(),
                    at,
                }
            } else {
                continue;
            };
            let prepared = match anchored.get(id) {
                Some((state, sequence)) => {
                    self.records
                        .prepare_on(id, state.clone(), *sequence, command, metadata)
                        .await?
                }
                None => self.records.prepare(id, command, metadata, false).await?,
            };
            // The count was planned on the read model: a state the log has moved past is
            // planned again.
            if prepared.before.fields.get("nb_entities_out") != doc.get("nb_entities_out") {
                return Ok(None);
            }
            events.extend(prepared.events);
        }
        if events.is_empty() {
            return Ok(Some(Position::default()));
        }
        // Streams in one order for every change: two changes appending to the same streams
        // wait on each other rather than deadlock.
        events.sort_by(|a, b| {
            (&a.aggregate_type, &a.aggregate_id, a.sequence).cmp(&(
                &b.aggregate_type,
                &b.aggregate_id,
                b.sequence,
            ))
        });
        Ok(self.together.append(events).await?)
    }
}

impl Breakdown {
    fn kind(&self, id: &str) -> Option<&str> {
        self.entities.get(id)?.get("type")?.as_str()
    }

    fn parent(&self, id: &str) -> Option<&str> {
        self.entities.get(id)?.get("parent_id")?.as_str()
    }

    /// The episode of a shot: its sequence's parent.
    fn episode_of(&self, shot: &str) -> Option<String> {
        if self.kind(shot) != Some("Shot") {
            return None;
        }
        let sequence = self.parent(shot)?;
        self.parent(sequence).map(str::to_string)
    }

    /// The shots of an episode: those of its sequences.
    fn shots_of(&self, episode: &str) -> Vec<String> {
        self.entities
            .iter()
            .filter(|(_, doc)| doc["type"] == "Shot")
            .filter(|(_, doc)| {
                doc["parent_id"]
                    .as_str()
                    .is_some_and(|sequence| self.parent(sequence) == Some(episode))
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The assets cast in `id` after the change.
    pub fn cast_in(&self, id: &str) -> Vec<String> {
        self.after
            .keys()
            .filter(|(from, _)| from == id)
            .map(|(_, to)| to.clone())
            .collect()
    }

    /// The links of `id` after the change, to entities that are not canceled (Zou's count).
    fn live_count(&self, id: &str) -> usize {
        self.cast_in(id)
            .iter()
            .filter(|to| {
                self.entities
                    .get(*to)
                    .is_none_or(|doc| doc["canceled"] != json!(true))
            })
            .count()
    }

    /// The links of the project after the change, as `(in, out, cast)`.
    pub fn links(&self) -> impl Iterator<Item = (&str, &str, &Cast)> {
        self.after
            .iter()
            .map(|((from, to), cast)| (from.as_str(), to.as_str(), cast))
    }

    /// Refuses an asset id that is no entity (as the generic create refuses a reference), and
    /// an asset of another project that it does not share (Zou casts any entity; annals does
    /// not show one production's assets to another's team unless shared).
    fn known(&self, asset_id: &str) -> Result<(), AppError> {
        let Some(asset) = self.entities.get(asset_id) else {
            return Err(AppError::invalid("asset_id", REFERENCED));
        };
        if asset["project_id"].as_str() == Some(&self.project) || asset["is_shared"] == json!(true)
        {
            Ok(())
        } else {
            Err(super::forbidden())
        }
    }

    /// Casts `asset` in `entity` (a new link, or new values of the link).
    /// With `mirror`, a shot's asset is cast in its episode too when the episode lacks it.
    fn put(&mut self, entity: &str, asset: &str, cast: Cast, mirror: bool) {
        let key = (entity.to_string(), asset.to_string());
        if mirror && let Some(episode) = self.episode_of(entity) {
            let mirrored = (episode.clone(), asset.to_string());
            if let std::collections::btree_map::Entry::Vacant(vacant) =
                self.after.entry(mirrored.clone())
            {
                self.order.push(mirrored);
                vacant.insert(Cast {
                    nb_occurences: json!(1),
                    label: cast.label.clone(),
                    data: json!({"auto": true}),
                });
                self.recounted.insert(episode);
            }
        }
        self.order.push(key.clone());
        self.after.insert(key, cast);
        self.touched.insert(entity.to_string());
    }

    /// Takes `asset` out of `entity`: from an episode (with `cascade`) also out of its
    /// shots; from a shot, out of its episode too when the episode holds it only for its
    /// shots and none casts it any more.
    fn drop(&mut self, entity: &str, asset: &str, cascade: bool) {
        self.touched.insert(entity.to_string());
        if cascade && self.kind(entity) == Some("Episode") {
            for shot in self.shots_of(entity) {
                if self
                    .after
                    .remove(&(shot.clone(), asset.to_string()))
                    .is_some()
                {
                    self.recounted.insert(shot);
                }
            }
        }
        if self
            .after
            .remove(&(entity.to_string(), asset.to_string()))
            .is_none()
        {
            return;
        }
        if let Some(episode) = self.episode_of(entity) {
            let still = self
                .shots_of(&episode)
                .iter()
                .any(|shot| self.after.contains_key(&(shot.clone(), asset.to_string())));
            let mirrored = (episode.clone(), asset.to_string());
            if !still && self.after.get(&mirrored).is_some_and(Cast::is_auto) {
                self.after.remove(&mirrored);
                self.recounted.insert(episode);
            }
        }
    }

    /// Replaces the casting of `entity` by `casting` (Zou's `update_casting`).
    pub fn replace(&mut self, entity: &str, casting: &[Wanted]) -> Result<(), AppError> {
        for wanted in casting {
            self.known(&wanted.asset_id)?;
        }
        let kept: BTreeSet<&str> = casting.iter().map(|w| w.asset_id.as_str()).collect();
        let previous = self.cast_in(entity);
        // What leaves the casting goes as Zou drops it (an episode's shots lose it too);
        // what stays is set anew below, its own link kept.
        for asset in &previous {
            if !kept.contains(asset.as_str()) {
                self.drop(entity, asset, true);
            }
        }
        for wanted in casting {
            let cast = Cast {
                nb_occurences: wanted.nb_occurences.clone(),
                label: wanted.label.clone(),
                // Set by hand: no longer a mirror of the shots.
                data: Value::Null,
            };
            // Zou makes every link anew, and each new one of a shot mirrors in its episode.
            self.put(entity, &wanted.asset_id, cast, true);
        }
        self.touched.insert(entity.to_string());
        Ok(())
    }

    /// Casts `asset` in `entity`, keeping the link's count and label where not given (1 and
    /// `""` on a new link) (Zou's `cast_asset`).
    pub fn cast(
        &mut self,
        entity: &str,
        asset: &str,
        nb: Option<Value>,
        label: Option<Value>,
    ) -> Result<(), AppError> {
        self.known(asset)?;
        let current = self.after.get(&(entity.to_string(), asset.to_string()));
        let new = current.is_none();
        let cast = Cast {
            nb_occurences: nb
                .or_else(|| current.map(|c| c.nb_occurences.clone()))
                .unwrap_or(json!(1)),
            label: label
                .or_else(|| current.map(|c| c.label.clone()))
                .unwrap_or(json!("")),
            data: current.map(|c| c.data.clone()).unwrap_or(Value::Null),
        };
        self.put(entity, asset, cast, new);
        Ok(())
    }

    /// Takes `asset` out of `entity` (Zou's `uncast_asset`, which also clears an episode's
    /// shots).
    pub fn uncast(&mut self, entity: &str, asset: &str) {
        self.drop(entity, asset, true);
    }
}
