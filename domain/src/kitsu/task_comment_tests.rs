//! Given/when/then for comments on tasks.
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use serde_json::{Value, json};

use super::*;

const TASK: &str = "00000000-0000-4000-8000-000000000001";
const TODO: &str = "00000000-0000-4000-8000-000000000002";
const WIP: &str = "00000000-0000-4000-8000-000000000003";
const PERSON: &str = "00000000-0000-4000-8000-000000000004";

fn t(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, minute, 0).unwrap()
}

/// The state of a stream after these events.
fn state(events: Vec<RecordEvent>) -> Record {
    let mut record = Record::default();
    for event in events {
        cqrs_es::Aggregate::apply(&mut record, event);
    }
    record
}

fn created(model_route: &str, fields: Value) -> RecordEvent {
    let input = fields.as_object().unwrap().clone();
    RecordEvent::RecordCreated {
        model: model_route.into(),
        fields: model(model_route).unwrap().prepare_create(&input).unwrap(),
        by: "admin".into(),
        at: t(0),
        subject: None,
    }
}

fn task(last_comment_date: Value) -> Record {
    let p = "00000000-0000-4000-8000-0000000000aa";
    state(vec![created(
        "tasks",
        json!({"project_id": p, "task_type_id": p, "entity_id": p, "task_status_id": TODO,
               "last_comment_date": last_comment_date}),
    )])
}

fn status(flags: Value) -> Record {
    let mut fields = json!({"name": "WIP", "short_name": "wip", "color": "#000000"});
    fields
        .as_object_mut()
        .unwrap()
        .extend(flags.as_object().unwrap().clone());
    state(vec![created("task-status", fields)])
}

fn comment<'a>(task: &'a Record, status_id: &'a str, status: &'a Record) -> TaskComment<'a> {
    TaskComment {
        task_id: TASK,
        task,
        status_id,
        status,
        max_retakes: 0,
        author: PERSON,
        text: "looks good",
        checklist: json!([]),
        links: json!([]),
        for_client: false,
        mentions: vec![],
        department_mentions: vec![],
        by: PERSON,
        at: t(5),
        now: t(5),
    }
}

fn input_of(command: &RecordCommand) -> &serde_json::Map<String, Value> {
    match command {
        RecordCommand::Create { input, .. } | RecordCommand::Update { input, .. } => input,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_comment_with_another_status_moves_the_task_and_says_so() {
    let (task, wip) = (task(Value::Null), status(json!({"is_wip": true})));
    let decided = comment_on_task(comment(&task, WIP, &wip)).unwrap();
    assert!(decided.changed);
    let moved = input_of(&decided.task);
    assert_eq!(moved["task_status_id"], WIP);
    assert_eq!(moved["last_comment_date"], "2026-11-28T12:05:00");
    assert_eq!(moved["real_start_date"], "2026-11-28T12:05:00");
    let RecordCommand::Create { subject, .. } = &decided.comment else {
        panic!("{decided:?}");
    };
    let subject = subject.as_ref().unwrap();
    assert!(changed_status(subject));
    assert_eq!(subject.fields["task_status_id"], TODO);

    // The comment's own stream takes it as a record of the comments model.
    let events = TestFramework::<Record>::with(())
        .given_no_previous_events()
        .when(decided.comment)
        .inspect_result()
        .unwrap();
    let RecordEvent::RecordCreated {
        fields, subject, ..
    } = &events[0]
    else {
        panic!("{events:?}");
    };
    assert_eq!(fields["object_id"], TASK);
    assert_eq!(fields["object_type"], "Task");
    assert_eq!(fields["person_id"], PERSON);
    assert_eq!(fields["replies"], json!([]));
    assert!(subject.is_some());
}

#[test]
fn a_comment_with_the_same_status_changes_nothing_but_the_date() {
    let (task, todo) = (task(Value::Null), status(json!({})));
    let decided = comment_on_task(comment(&task, TODO, &todo)).unwrap();
    assert!(!decided.changed);
    let moved = input_of(&decided.task);
    assert_eq!(moved["last_comment_date"], "2026-11-28T12:05:00");
    // Within the same second again, nothing changes: the task is only touched.
    let mut commented = task.clone();
    commented
        .fields
        .insert("last_comment_date".into(), json!("2026-11-28T12:05:00"));
    let again = comment_on_task(comment(&commented, TODO, &todo)).unwrap();
    assert!(
        matches!(again.task, RecordCommand::Touch { .. }),
        "{again:?}"
    );
    let events = TestFramework::<Record>::with(())
        .given(vec![created(
            "tasks",
            json!({"project_id": TASK, "task_type_id": TASK, "entity_id": TASK}),
        )])
        .when(again.task)
        .inspect_result()
        .unwrap();
    assert!(
        matches!(&events[..], [RecordEvent::RecordUpdated { changes, .. }] if changes.is_empty())
    );
    let RecordCommand::Create { subject, .. } = &decided.comment else {
        panic!();
    };
    assert!(!changed_status(subject.as_ref().unwrap()));
}

#[test]
fn an_older_comment_leaves_the_task_alone() {
    let (task, wip) = (task(json!("2026-11-28T12:30:00")), status(json!({})));
    let decided = comment_on_task(comment(&task, WIP, &wip)).unwrap();
    assert!(!decided.changed);
    assert!(
        matches!(decided.task, RecordCommand::Touch { .. }),
        "{decided:?}"
    );
}

#[test]
fn a_retake_counts_and_is_capped() {
    let (task, retake) = (task(Value::Null), status(json!({"is_retake": true})));
    let decided = comment_on_task(comment(&task, WIP, &retake)).unwrap();
    assert_eq!(input_of(&decided.task)["retake_count"], 1);
    let capped = TaskComment {
        max_retakes: 1,
        ..comment(&task, WIP, &retake)
    };
    // Not yet at the cap: allowed.
    assert!(comment_on_task(capped.clone()).is_ok());
    let mut retaken = task.clone();
    retaken.fields.insert("retake_count".into(), json!(1));
    let at_cap = TaskComment {
        task: &retaken,
        ..capped
    };
    assert!(matches!(
        comment_on_task(at_cap),
        Err(RecordError::Invalid { field, .. }) if field == "task_status_id"
    ));
}

#[test]
fn a_done_status_dates_the_task_and_a_step_back_clears_it() {
    let (task, done) = (task(Value::Null), status(json!({"is_done": true})));
    let decided = comment_on_task(comment(&task, WIP, &done)).unwrap();
    let moved = input_of(&decided.task);
    assert_eq!(moved["done_date"], "2026-11-28T12:05:00");
    assert!(!moved.contains_key("end_date"));
    let mut finished = task.clone();
    finished
        .fields
        .insert("done_date".into(), json!("2026-11-28T12:01:00"));
    finished
        .fields
        .insert("end_date".into(), json!("2026-11-28T12:01:00"));
    let wip = status(json!({}));
    let decided = comment_on_task(comment(&finished, WIP, &wip)).unwrap();
    let moved = input_of(&decided.task);
    assert_eq!(moved["done_date"], Value::Null);
    assert_eq!(moved["end_date"], Value::Null);
    let review = status(json!({"is_feedback_request": true}));
    let decided = comment_on_task(comment(&task, WIP, &review)).unwrap();
    assert_eq!(input_of(&decided.task)["end_date"], "2026-11-28T12:05:00");
}

#[test]
fn an_unknown_task_or_status_is_not_found() {
    let (task, wip) = (task(Value::Null), status(json!({})));
    let nothing = Record::default();
    assert_eq!(
        comment_on_task(comment(&nothing, WIP, &wip)),
        Err(RecordError::NotFound)
    );
    assert_eq!(
        comment_on_task(comment(&task, WIP, &nothing)),
        Err(RecordError::NotFound)
    );
}

#[test]
fn a_task_is_named_main_unless_told() {
    let task = task(Value::Null);
    assert_eq!(task.fields["name"], "main");
    assert_eq!(task.fields["difficulty"], 3);
    assert_eq!(task.fields["assignees"], json!([]));
}

#[test]
fn a_tasks_assignees_are_set_by_an_update_other_relations_are_not() {
    let task = task(Value::Null);
    let tasks = model("tasks").unwrap();
    let changes = tasks
        .prepare_update(
            &task.fields,
            &json!({"assignees": [PERSON, {"id": PERSON}]})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].new, json!([PERSON]));
    let projects = model("projects").unwrap();
    let project = projects
        .prepare_create(&json!({"name": "P"}).as_object().unwrap().clone())
        .unwrap();
    let changes = projects
        .prepare_update(
            &project,
            &json!({"team": [PERSON]}).as_object().unwrap().clone(),
        )
        .unwrap();
    assert!(changes.is_empty());
}

#[test]
fn a_mention_is_at_and_the_whole_name_then_a_space_or_the_end() {
    let named = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(id, name)| (id.to_string(), name.to_string()))
            .collect()
    };
    let people = named(&[("ada", "Ada Lovelace"), ("al", "Al"), ("none", "")]);
    assert_eq!(mentioned("@Ada Lovelace have a look", &people), ["ada"]);
    assert_eq!(mentioned("thanks @Al", &people), ["al"]);
    // Part of a longer name, another case, or no @: no mention.
    assert!(mentioned("@Alan said so", &people).is_empty());
    assert!(mentioned("@ada lovelace", &people).is_empty());
    assert!(mentioned("Ada Lovelace", &people).is_empty());
    // A name followed by more than a space (Zou asks for a space or the end).
    assert!(mentioned("@Al, look", &people).is_empty());
    assert_eq!(mentioned("@Al @Al ", &people), ["al"]);
}
