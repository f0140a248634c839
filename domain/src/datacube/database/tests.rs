//! Given/when/then for databases and their names.
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::datacube::{Collection, Field, FieldType};

type DbTest = TestFramework<Database>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn users() -> Collection {
    Collection {
        collection_id: "c1".into(),
        name: "users".into(),
        fields: vec![Field {
            name: "email".into(),
            field_type: FieldType::String,
        }],
    }
}

fn logs() -> Collection {
    Collection {
        collection_id: "c2".into(),
        name: "logs".into(),
        fields: vec![],
    }
}

fn created() -> DatabaseEvent {
    DatabaseEvent::DatabaseCreated {
        database_id: "d1".into(),
        owner: "u1".into(),
        name: "shop".into(),
        collections: vec![users()],
        at: t0(),
    }
}

fn create(name: &str, collections: Vec<Collection>) -> DatabaseCommand {
    DatabaseCommand::Create {
        database_id: "d1".into(),
        owner: "u1".into(),
        name: name.into(),
        collections,
        at: t0(),
    }
}

#[test]
fn a_database_is_created_with_a_lowercased_name() {
    DbTest::with(())
        .given_no_previous_events()
        .when(create(" Shop ", vec![users()]))
        .then_expect_events(vec![created()]);
}

#[test]
fn bad_reserved_and_duplicate_names_are_refused() {
    DbTest::with(())
        .given_no_previous_events()
        .when(create("my shop", vec![]))
        .then_expect_error(DatabaseError::BadName {
            field: "db_name".into(),
        });
    DbTest::with(())
        .given_no_previous_events()
        .when(create("Admin", vec![]))
        .then_expect_error(DatabaseError::Reserved("admin".into()));
    DbTest::with(())
        .given_no_previous_events()
        .when(create("shop", vec![users(), users()]))
        .then_expect_error(DatabaseError::Duplicate {
            field: "collections".into(),
            name: "users".into(),
        });
    let mut twice = users();
    twice.fields.push(twice.fields[0].clone());
    DbTest::with(())
        .given_no_previous_events()
        .when(create("shop", vec![twice]))
        .then_expect_error(DatabaseError::Duplicate {
            field: "collections[0].fields".into(),
            name: "email".into(),
        });
}

#[test]
fn only_new_collections_are_added_and_only_by_the_owner() {
    DbTest::with(())
        .given(vec![created()])
        .when(DatabaseCommand::AddCollections {
            by: "u1".into(),
            collections: vec![users(), logs()],
            at: t0(),
        })
        .then_expect_events(vec![DatabaseEvent::CollectionsAdded {
            collections: vec![logs()],
            at: t0(),
        }]);
    DbTest::with(())
        .given(vec![created()])
        .when(DatabaseCommand::AddCollections {
            by: "u2".into(),
            collections: vec![logs()],
            at: t0(),
        })
        .then_expect_error(DatabaseError::NotFound);
}

#[test]
fn dropping_collections_names_the_unknown_ones_and_drops_nothing() {
    DbTest::with(())
        .given(vec![created()])
        .when(DatabaseCommand::DropCollections {
            by: "u1".into(),
            names: vec!["users".into(), "old".into()],
            at: t0(),
        })
        .then_expect_error(DatabaseError::UnknownCollections(vec!["old".into()]));
    DbTest::with(())
        .given(vec![created()])
        .when(DatabaseCommand::DropCollections {
            by: "u1".into(),
            names: vec!["users".into(), "users".into()],
            at: t0(),
        })
        .then_expect_events(vec![DatabaseEvent::CollectionsDropped {
            collection_ids: vec!["c1".into()],
            names: vec!["users".into()],
            at: t0(),
        }]);
}

#[test]
fn a_drop_needs_the_name_as_confirmation() {
    let drop = |confirmation: &str| DatabaseCommand::Drop {
        by: "u1".into(),
        confirmation: confirmation.into(),
        at: t0(),
    };
    DbTest::with(())
        .given(vec![created()])
        .when(drop("shops"))
        .then_expect_error(DatabaseError::ConfirmationMismatch);
    DbTest::with(())
        .given(vec![created()])
        .when(drop(" SHOP "))
        .then_expect_events(vec![DatabaseEvent::DatabaseDropped { at: t0() }]);
    DbTest::with(())
        .given(vec![created(), DatabaseEvent::DatabaseDropped { at: t0() }])
        .when(drop("shop"))
        .then_expect_error(DatabaseError::NotFound);
}

#[test]
fn a_name_is_held_by_one_database_until_released() {
    let claim = |id: &str| DatabaseNameCommand::Claim {
        database_id: id.into(),
        at: t0(),
    };
    let claimed = DatabaseNameEvent::DatabaseNameClaimed {
        database_id: "d1".into(),
        at: t0(),
    };
    TestFramework::<DatabaseName>::with(())
        .given(vec![claimed.clone()])
        .when(claim("d2"))
        .then_expect_error(DatabaseError::NameTaken);
    let released = DatabaseNameEvent::DatabaseNameReleased {
        database_id: "d1".into(),
        at: t0(),
    };
    TestFramework::<DatabaseName>::with(())
        .given(vec![claimed, released])
        .when(claim("d2"))
        .then_expect_events(vec![DatabaseNameEvent::DatabaseNameClaimed {
            database_id: "d2".into(),
            at: t0(),
        }]);
}
