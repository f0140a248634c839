//! Regressions found by the schemathesis pass (`tests/fuzz.sh`): each test replays one class of
//! request that made annals fail, on both backends.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::buckets::{account, create_bucket, expect, id_of};
use crate::helpers::{Backend, backends, spawn_app};
use rstest_reuse::apply;

/// Any finite JSON number a client sends is stored and read back as the same number. Postgres
/// keeps jsonb numbers as `numeric` and writes `-1.7976931348623157e308` back as 309 digits,
/// which serde_json's default (fast, not correctly rounded) parser rounded past f64::MAX and
/// refused: one such `PUT /api/bucket/{id}/user_options` left an event in the log that the
/// relay, the projections and the invitation reactor could not read, so every later read waited
/// for a read model that never moved again.
#[apply(backends)]
async fn extreme_numbers_round_trip_through_the_log_and_the_views(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let id = id_of(&create_bucket(&app, &alice, "numbers").await);
    let numbers = json!({
        "max": f64::MAX,
        "min": f64::MIN,
        "tiny": 2.225073858507e-308,
        "subnormal": 5e-324,
        "float_max": 3.4028234663852886e38,
        "big_integer": 1.2345678901234568e29,
        "i64_min": i64::MIN,
        "u64_max": u64::MAX,
    });
    let answered = expect(
        app.workspaces(Some(&alice.access))
            .put(
                &format!("/api/bucket/{id}/user_options"),
                json!({"options": {"numbers": numbers}}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answered["bucket"]["user_options"]["numbers"], numbers);
    expect(
        app.workspaces(Some(&alice.access))
            .put(
                &format!("/api/bucket/{id}"),
                json!({"configuration": {"numbers": numbers}}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    // The read model applied both events (it would lag forever behind an unreadable one).
    let bucket = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bucket["configuration"]["numbers"], numbers, "{bucket}");
    assert_eq!(bucket["user_options"]["numbers"], numbers, "{bucket}");

    // And the log is still readable from the start: a later command and read go through.
    expect(
        app.workspaces(Some(&alice.access))
            .put(&format!("/api/bucket/{id}"), json!({"comment": "after"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let after: Value = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["comment"], "after", "{after}");
}
