//! Given/when/then for records and unique claims.
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use serde_json::{Map, Value, json};

use super::*;

type RecordTest = TestFramework<Record>;
type ClaimTest = TestFramework<UniqueClaim>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn input(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn create(model: &str, value: Value) -> RecordCommand {
    RecordCommand::Create {
        model: model.into(),
        input: input(value),
        by: "admin".into(),
        at: t0(),
        subject: None,
    }
}

fn open_created() -> RecordEvent {
    RecordEvent::RecordCreated {
        model: "project-status".into(),
        fields: [
            ("name".to_string(), json!("Open")),
            ("color".to_string(), json!("#000000")),
        ]
        .into(),
        by: "admin".into(),
        at: t0(),
        subject: None,
    }
}

#[test]
fn a_create_records_every_field_with_defaults() {
    let created = RecordTest::with(())
        .given_no_previous_events()
        .when(create(
            "task-types",
            json!({"name": "Modeling", "id": "ignored", "created_at": "x"}),
        ))
        .inspect_result()
        .unwrap();
    let RecordEvent::RecordCreated { fields, .. } = &created[0] else {
        panic!("{created:?}");
    };
    assert_eq!(fields["name"], "Modeling");
    assert_eq!(fields["color"], "#FFFFFF");
    assert_eq!(fields["priority"], 1);
    assert_eq!(fields["for_entity"], "Asset");
    assert_eq!(fields["department_id"], Value::Null);
    assert_eq!(fields.len(), TASK_TYPE_FIELDS);
}

const TASK_TYPE_FIELDS: usize = 10;

#[test]
fn an_unknown_key_is_refused_on_create() {
    RecordTest::with(())
        .given_no_previous_events()
        .when(create(
            "project-status",
            json!({"name": "Open", "color": "#000000", "foo": 1}),
        ))
        .then_expect_error(RecordError::UnknownField {
            field: "foo".into(),
            type_name: "ProjectStatus",
        });
}

/// Zou 1.0.97's answer to a software made with its three required fields
/// (tests/fixtures/zou-1.0.97-models.md).
#[test]
fn a_software_takes_zous_defaults_and_needs_its_file_extension() {
    let created = RecordTest::with(())
        .given_no_previous_events()
        .when(create(
            "softwares",
            json!({"name": "Blender", "short_name": "bl", "file_extension": ".blend"}),
        ))
        .inspect_result()
        .unwrap();
    let RecordEvent::RecordCreated { fields, .. } = &created[0] else {
        panic!("{created:?}");
    };
    let expected = json!({
        "name": "Blender", "short_name": "bl", "file_extension": ".blend", "archived": false,
        "version": null, "secondary_extensions": null, "monthly_cost": 0, "inventory_amount": 0,
    });
    assert_eq!(
        Value::Object(fields.clone().into_iter().collect()),
        expected
    );
    RecordTest::with(())
        .given_no_previous_events()
        .when(create(
            "softwares",
            json!({"name": "Maya", "short_name": "ma"}),
        ))
        .then_expect_error(RecordError::Missing {
            field: "file_extension".into(),
        });
    let long_name = json!({"name": "x".repeat(41), "short_name": "x", "file_extension": ".x"});
    let error = RecordTest::with(())
        .given_no_previous_events()
        .when(create("softwares", long_name))
        .inspect_result()
        .unwrap_err();
    assert!(
        matches!(&error, RecordError::Invalid { field, .. } if field == "name"),
        "{error:?}"
    );
}

#[test]
fn a_missing_required_field_is_refused() {
    RecordTest::with(())
        .given_no_previous_events()
        .when(create("project-status", json!({"name": "Open"})))
        .then_expect_error(RecordError::Missing {
            field: "color".into(),
        });
}

#[test]
fn wrong_types_name_the_field() {
    for (model, body, field) in [
        (
            "project-status",
            json!({"name": 5, "color": "#000000"}),
            "name",
        ),
        (
            "project-status",
            json!({"name": "much too long a status name", "color": "#000000"}),
            "name",
        ),
        (
            "task-types",
            json!({"name": "A", "priority": "high"}),
            "priority",
        ),
        (
            "task-types",
            json!({"name": "A", "for_entity": "Car"}),
            "for_entity",
        ),
        (
            "task-types",
            json!({"name": "A", "department_id": "not-a-uuid"}),
            "department_id",
        ),
        (
            "studios",
            json!({"name": "S", "color": "#fff", "archived": "no"}),
            "archived",
        ),
    ] {
        let error = RecordTest::with(())
            .given_no_previous_events()
            .when(create(model, body))
            .inspect_result()
            .unwrap_err();
        assert!(
            matches!(&error, RecordError::Invalid { field: f, .. } if f == field),
            "{error:?}"
        );
    }
}

#[test]
fn a_record_is_created_once() {
    RecordTest::with(())
        .given(vec![open_created()])
        .when(create(
            "project-status",
            json!({"name": "B", "color": "#111111"}),
        ))
        .then_expect_error(RecordError::AlreadyExists);
}

#[test]
fn an_update_records_old_and_new_values_of_changed_fields_only() {
    RecordTest::with(())
        .given(vec![open_created()])
        .when(RecordCommand::Update {
            model: "project-status".into(),
            input: input(json!({"name": "Opened", "color": "#000000", "bogus": 1, "id": "x"})),
            by: "admin".into(),
            at: t0(),
        })
        .then_expect_events(vec![RecordEvent::RecordUpdated {
            model: "project-status".into(),
            changes: vec![FieldChange {
                field: "name".into(),
                old: json!("Open"),
                new: json!("Opened"),
            }],
            by: "admin".into(),
            at: t0(),
        }]);
}

#[test]
fn an_update_that_changes_nothing_records_nothing() {
    RecordTest::with(())
        .given(vec![open_created()])
        .when(RecordCommand::Update {
            model: "project-status".into(),
            input: input(json!({"name": "Open"})),
            by: "admin".into(),
            at: t0(),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_required_field_cannot_be_nulled() {
    RecordTest::with(())
        .given(vec![open_created()])
        .when(RecordCommand::Update {
            model: "project-status".into(),
            input: input(json!({"color": null})),
            by: "admin".into(),
            at: t0(),
        })
        .then_expect_error(RecordError::Missing {
            field: "color".into(),
        });
}

#[test]
fn a_record_of_another_model_is_not_found() {
    RecordTest::with(())
        .given(vec![open_created()])
        .when(RecordCommand::Delete {
            model: "studios".into(),
            by: "admin".into(),
            at: t0(),
        })
        .then_expect_error(RecordError::NotFound);
}

#[test]
fn a_delete_keeps_the_last_values_and_is_final() {
    let deleted = RecordEvent::RecordDeleted {
        model: "project-status".into(),
        fields: [
            ("name".to_string(), json!("Open")),
            ("color".to_string(), json!("#000000")),
        ]
        .into(),
        by: "admin".into(),
        at: t0(),
    };
    RecordTest::with(())
        .given(vec![open_created()])
        .when(RecordCommand::Delete {
            model: "project-status".into(),
            by: "admin".into(),
            at: t0(),
        })
        .then_expect_events(vec![deleted.clone()]);
    RecordTest::with(())
        .given(vec![open_created(), deleted])
        .when(RecordCommand::Update {
            model: "project-status".into(),
            input: input(json!({"name": "Again"})),
            by: "admin".into(),
            at: t0(),
        })
        .then_expect_error(RecordError::NotFound);
}

#[test]
fn unique_keys_fold_case_only_where_zou_does() {
    let task_type = model("task-types").unwrap().field("name").unwrap();
    assert_eq!(
        task_type.unique_key(&json!("Modeling")).unwrap(),
        "modeling"
    );
    let status = model("project-status").unwrap().field("name").unwrap();
    assert_eq!(status.unique_key(&json!("Open")).unwrap(), "Open");
    assert_eq!(status.unique_key(&Value::Null), None);
    let color = model("project-status").unwrap().field("color").unwrap();
    assert_eq!(color.unique_key(&json!("#000000")), None);
}

#[test]
fn a_write_that_changes_others_is_known_to_find_them_in_the_read_models() {
    // Time spents sum into their task, day offs clear time spents, a default background
    // unsets the others: each reads the others from the read models before it writes.
    for route in ["time-spents", "day-offs", "preview-background-files"] {
        assert!(model(route).unwrap().writes_others(), "{route}");
    }
    assert!(!model("projects").unwrap().writes_others());
}

#[test]
fn reference_models_are_read_by_all_and_written_by_admins() {
    let reference = MODELS
        .iter()
        .filter(|m| m.project == ProjectLink::None && m.rules.read.access == Access::Anyone);
    for m in reference {
        assert!(
            m.rules.list.access.allows("user", false)
                && m.rules.read.access.allows("client", false)
        );
        assert!(
            !m.rules.create.access.allows("manager", true)
                && m.rules.create.access.allows("admin", false)
        );
        assert!(!m.rules.delete.access.allows("supervisor", true));
    }
}

#[test]
fn projects_are_read_by_their_team_and_changed_by_its_managers() {
    let rules = model("projects").unwrap().rules;
    assert!(rules.read.access.allows("user", true) && !rules.read.access.allows("user", false));
    assert!(rules.read.access.allows("admin", false));
    assert!(rules.update.access.allows("manager", true));
    assert!(
        !rules.update.access.allows("manager", false)
            && !rules.update.access.allows("supervisor", true)
    );
    assert!(
        !rules.create.access.allows("manager", true)
            && !rules.delete.access.allows("manager", true)
    );
}

fn project_created(team: Value) -> RecordEvent {
    let mut fields = model("projects")
        .unwrap()
        .prepare_create(&input(json!({"name": "Agent 327"})))
        .unwrap();
    fields.insert("team".into(), team);
    RecordEvent::RecordCreated {
        model: "projects".into(),
        fields,
        by: "admin".into(),
        at: t0(),
        subject: None,
    }
}

fn link(command: &str, id: &str) -> RecordCommand {
    let (model, field, id, by, at) = (
        "projects".to_string(),
        "team".to_string(),
        id.to_string(),
        "admin".to_string(),
        t0(),
    );
    match command {
        "link" => RecordCommand::Link {
            model,
            field,
            id,
            by,
            at,
        },
        _ => RecordCommand::Unlink {
            model,
            field,
            id,
            by,
            at,
        },
    }
}

#[test]
fn a_team_member_is_added_once_and_removed() {
    let a = "6e044bf9-3498-4641-80fd-f3ce10194ac5";
    RecordTest::with(())
        .given(vec![project_created(json!([]))])
        .when(link("link", a))
        .then_expect_events(vec![RecordEvent::RecordUpdated {
            model: "projects".into(),
            changes: vec![FieldChange {
                field: "team".into(),
                old: json!([]),
                new: json!([a]),
            }],
            by: "admin".into(),
            at: t0(),
        }]);
    RecordTest::with(())
        .given(vec![project_created(json!([a]))])
        .when(link("link", a))
        .then_expect_events(vec![]);
    RecordTest::with(())
        .given(vec![project_created(json!([a]))])
        .when(link("unlink", a))
        .then_expect_events(vec![RecordEvent::RecordUpdated {
            model: "projects".into(),
            changes: vec![FieldChange {
                field: "team".into(),
                old: json!([a]),
                new: json!([]),
            }],
            by: "admin".into(),
            at: t0(),
        }]);
    RecordTest::with(())
        .given(vec![project_created(json!([]))])
        .when(link("unlink", a))
        .then_expect_events(vec![]);
}

#[test]
fn relations_take_ids_or_objects_and_are_not_written_by_updates() {
    let projects = model("projects").unwrap();
    let a = "6e044bf9-3498-4641-80fd-f3ce10194ac5";
    let fields = projects
        .prepare_create(&input(json!({"name": "P", "team": [a, {"id": a}]})))
        .unwrap();
    assert_eq!(fields["team"], json!([a]));
    assert_eq!(fields["task_types"], json!([]));
    assert_eq!(fields["production_style"], "2d3d");
    assert_eq!(fields["is_client_stats_visible"], true);
    let refused = projects.prepare_create(&input(json!({"name": "P", "team": ["nope"]})));
    assert!(matches!(refused, Err(RecordError::Invalid { ref field, .. }) if field == "team"));
    let refused = projects.prepare_create(&input(json!({"name": "P", "start_date": "soon"})));
    assert!(
        matches!(refused, Err(RecordError::Invalid { ref field, .. }) if field == "start_date")
    );
    let changes = projects
        .prepare_update(&fields, &input(json!({"team": [], "fps": "24"})))
        .unwrap();
    assert_eq!(
        changes,
        vec![FieldChange {
            field: "fps".into(),
            old: json!("25"),
            new: json!("24"),
        }]
    );
}

#[test]
fn the_document_is_shaped_like_zou_json() {
    let m = model("project-status").unwrap();
    let fields = m
        .prepare_create(&input(json!({"name": "Open", "color": "#000000"})))
        .unwrap();
    let doc = document(m, "id-1", &fields, t0(), t0());
    assert_eq!(
        doc,
        json!({"id": "id-1", "created_at": "2026-11-28T12:00:00",
               "updated_at": "2026-11-28T12:00:00", "type": "ProjectStatus",
               "name": "Open", "color": "#000000"})
    );
}

fn claim(record_id: &str) -> UniqueClaimCommand {
    UniqueClaimCommand::Claim {
        model: "project-status".into(),
        field: "name".into(),
        value: "Open".into(),
        record_id: record_id.into(),
        at: t0(),
    }
}

fn claimed(record_id: &str) -> UniqueClaimEvent {
    UniqueClaimEvent::UniqueValueClaimed {
        model: "project-status".into(),
        field: "name".into(),
        value: "Open".into(),
        record_id: record_id.into(),
        at: t0(),
    }
}

#[test]
fn a_free_value_is_claimed_and_then_taken_for_others() {
    ClaimTest::with(())
        .given_no_previous_events()
        .when(claim("r1"))
        .then_expect_events(vec![claimed("r1")]);
    ClaimTest::with(())
        .given(vec![claimed("r1")])
        .when(claim("r2"))
        .then_expect_error(UniqueClaimError::Taken);
    ClaimTest::with(())
        .given(vec![claimed("r1")])
        .when(claim("r1"))
        .then_expect_events(vec![]);
}

#[test]
fn a_released_value_is_free_and_only_its_holder_releases() {
    let released = UniqueClaimEvent::UniqueValueReleased {
        record_id: "r1".into(),
        at: t0(),
    };
    ClaimTest::with(())
        .given(vec![claimed("r1"), released])
        .when(claim("r2"))
        .then_expect_events(vec![claimed("r2")]);
    ClaimTest::with(())
        .given(vec![claimed("r1")])
        .when(UniqueClaimCommand::Release {
            record_id: "r2".into(),
            at: t0(),
        })
        .then_expect_error(UniqueClaimError::NotHolder);
}

#[test]
fn an_entity_is_made_by_its_author_whatever_the_input_says_and_keeps_its_kind() {
    let project = uuid::Uuid::new_v4().to_string();
    let kind = uuid::Uuid::new_v4().to_string();
    let entities = model("entities").unwrap();
    // The service drops what only the server sets, then gives the kind it resolved.
    let mut given = entities.client_input(input(json!({
        "name": "Chair", "project_id": project, "entity_type_id": kind,
        "created_by": "someone else", "type": "Shot",
    })));
    assert!(!given.contains_key("created_by") && !given.contains_key("type"));
    given.insert("type".into(), json!("Asset"));
    let created = RecordTest::with(())
        .given_no_previous_events()
        .when(RecordCommand::Create {
            model: "entities".into(),
            input: given,
            by: "admin".into(),
            at: t0(),
            subject: None,
        })
        .inspect_result()
        .unwrap();
    let RecordEvent::RecordCreated { fields, .. } = &created[0] else {
        panic!("{created:?}");
    };
    assert_eq!(fields["created_by"], "admin");
    assert_eq!(fields["type"], "Asset");
    assert_eq!(fields["status"], "running");
    assert_eq!(fields["is_shared"], false);

    // An update changes neither.
    let changes = entities
        .prepare_update(
            fields,
            &input(json!({"type": "Shot", "created_by": "x", "canceled": true})),
        )
        .unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, "canceled");
}

#[test]
fn an_entity_update_merges_its_data_as_zou_does() {
    let entities = model("entities").unwrap();
    let current = [("data".to_string(), json!({"legs": 4, "color": "red"}))].into();
    let changes = entities
        .prepare_update(
            &current,
            &input(json!({"data": {"color": "blue", "extra_field": true}})),
        )
        .unwrap();
    assert_eq!(
        changes[0].new,
        json!({"legs": 4, "color": "blue", "extra_field": true})
    );
    // Not an object: replaced.
    let changes = entities
        .prepare_update(&current, &input(json!({"data": [1]})))
        .unwrap();
    assert_eq!(changes[0].new, json!([1]));
}

#[test]
fn typed_views_show_one_kind_of_their_model() {
    let assets = view("assets").unwrap();
    assert_eq!(assets.model, "entities");
    assert!(assets.only.shows(Some(&json!("Asset"))));
    assert!(!assets.only.shows(Some(&json!("Shot"))));
    let asset_types = view("asset-types").unwrap();
    assert!(asset_types.only.shows(Some(&json!("Prop"))));
    assert!(!asset_types.only.shows(Some(&json!("Sequence"))));
    assert_eq!(
        view("shots").unwrap().aliases,
        &[("sequence_id", "parent_id")]
    );
}

#[test]
fn a_playlist_takes_no_episode_for_main_and_keeps_its_entries_as_zou_shapes_them() {
    let project = uuid::Uuid::new_v4().to_string();
    let shot = uuid::Uuid::new_v4().to_string();
    let playlists = model("playlists").unwrap();
    // Given a create naming the "main" pseudo-episode, a task type that is not an id, an
    // author and build jobs of the client's,
    let given = playlists.client_input(input(json!({
        "name": "Review", "project_id": project, "episode_id": "main",
        "task_type_id": "nope", "created_by": "someone", "build_jobs": [shot],
        "shots": [{"id": shot}, "x", {"foo": 1}, {"entity_id": shot, "preview_file_id": "p"}],
    })));
    // when it is decided,
    let created = RecordTest::with(())
        .given_no_previous_events()
        .when(RecordCommand::Create {
            model: "playlists".into(),
            input: given,
            by: "maker".into(),
            at: t0(),
            subject: None,
        })
        .inspect_result()
        .unwrap();
    // then the playlist has no episode nor task type, is the maker's, has no build jobs, and
    // its entries are `{entity_id, preview_file_id}`.
    let RecordEvent::RecordCreated { fields, .. } = &created[0] else {
        panic!("{created:?}");
    };
    assert_eq!(fields["episode_id"], Value::Null);
    assert_eq!(fields["task_type_id"], Value::Null);
    assert_eq!(fields["created_by"], "maker");
    assert_eq!(fields["build_jobs"], json!([]));
    assert_eq!(fields["for_entity"], "shot");
    assert_eq!(
        fields["shots"],
        json!([
            {"entity_id": shot, "preview_file_id": null},
            {"entity_id": shot, "preview_file_id": "p"},
        ])
    );

    // An update that gives no list empties the entries; one of another kind is refused.
    let changes = playlists
        .prepare_update(fields, &input(json!({"shots": "nope", "created_by": "x"})))
        .unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].new, json!([]));
    let refused = playlists.prepare_update(fields, &input(json!({"for_entity": "thing"})));
    assert_eq!(
        refused,
        Err(RecordError::Refused {
            field: "for_entity".into(),
            message: "for_entity must be one of shot, asset, sequence, edit, episode",
        })
    );
}

#[test]
fn playlists_are_unique_by_name_within_an_episode_only() {
    let playlists = model("playlists").unwrap();
    let fields = |episode: Value| {
        [
            ("name".to_string(), json!("Review")),
            ("project_id".to_string(), json!("p")),
            ("episode_id".to_string(), episode),
        ]
        .into()
    };
    assert_eq!(playlists.together_keys(&fields(Value::Null)), vec![]);
    assert_eq!(playlists.together_keys(&fields(json!("e"))).len(), 1);
}

#[test]
fn an_entity_added_to_a_playlist_appends_its_couple_once() {
    let project = uuid::Uuid::new_v4().to_string();
    let (shot, other) = ("s1".to_string(), "s2".to_string());
    let made = RecordEvent::RecordCreated {
        model: "playlists".into(),
        fields: model("playlists")
            .unwrap()
            .prepare_create(&input(json!({
                "name": "Review", "project_id": project,
                "shots": [{"entity_id": shot, "preview_file_id": null}],
            })))
            .unwrap(),
        by: "maker".into(),
        at: t0(),
        subject: None,
    };
    let add = |couples: Vec<(String, Option<String>)>| RecordCommand::AddEntries {
        model: "playlists".into(),
        field: "shots".into(),
        couples,
        by: "manager".into(),
        at: t0(),
    };
    // Given a playlist holding (s1, no preview), when s1 without preview, s1 with a preview
    // and s2 without are added, then the two new couples are appended, Zou's way.
    let added = RecordTest::with(())
        .given(vec![made.clone()])
        .when(add(vec![
            (shot.clone(), None),
            (shot.clone(), Some("p1".into())),
            (other.clone(), None),
        ]))
        .inspect_result()
        .unwrap();
    let RecordEvent::RecordUpdated { changes, by, .. } = &added[0] else {
        panic!("{added:?}");
    };
    assert_eq!(by, "manager");
    assert_eq!(
        changes[0].new,
        json!([
            {"entity_id": shot, "preview_file_id": null},
            {"entity_id": shot, "preview_file_id": "p1"},
            {"entity_id": other},
        ])
    );
    // A couple already there adds nothing; a deleted playlist is not found.
    RecordTest::with(())
        .given(vec![made.clone()])
        .when(add(vec![(shot.clone(), None)]))
        .then_expect_events(vec![]);
    let deleted = RecordEvent::RecordDeleted {
        model: "playlists".into(),
        fields: std::collections::BTreeMap::new(),
        by: "maker".into(),
        at: t0(),
    };
    RecordTest::with(())
        .given(vec![made, deleted])
        .when(add(vec![(other, None)]))
        .then_expect_error(RecordError::NotFound);
}

#[test]
fn a_key_of_a_records_data_moves_or_goes_as_zou_moves_a_descriptors_values() {
    let made = RecordEvent::RecordCreated {
        model: "projects".into(),
        fields: model("projects")
            .unwrap()
            .prepare_create(&input(json!({
                "name": "P", "data": {"rating": 4, "keep": true, "empty": null},
            })))
            .unwrap(),
        by: "maker".into(),
        at: t0(),
        subject: None,
    };
    let move_key = |from: &str, to: Option<&str>| RecordCommand::MoveKey {
        model: "projects".into(),
        field: "data".into(),
        from: from.into(),
        to: to.map(str::to_string),
        by: "manager".into(),
        at: t0(),
    };
    let moved = RecordTest::with(())
        .given(vec![made.clone()])
        .when(move_key("rating", Some("score")))
        .inspect_result()
        .unwrap();
    let RecordEvent::RecordUpdated { changes, .. } = &moved[0] else {
        panic!("{moved:?}");
    };
    assert_eq!(
        changes[0].new,
        json!({"score": 4, "keep": true, "empty": null})
    );
    let removed = RecordTest::with(())
        .given(vec![made.clone()])
        .when(move_key("rating", None))
        .inspect_result()
        .unwrap();
    let RecordEvent::RecordUpdated { changes, .. } = &removed[0] else {
        panic!("{removed:?}");
    };
    assert_eq!(changes[0].new, json!({"keep": true, "empty": null}));
    // No value (absent or null): nothing changes.
    for from in ["absent", "empty"] {
        RecordTest::with(())
            .given(vec![made.clone()])
            .when(move_key(from, Some("other")))
            .then_expect_events(vec![]);
    }
}
