//! Unknown routes and methods answer in the error shape of the surface they belong to, and
//! every documented route is served.
use reqwest::header::ALLOW;
use reqwest::{Method, Response, StatusCode};
use rstest_reuse::apply;
use serde_json::{Value, json};

use annals::http::kitsu::errors::NOT_FOUND_MESSAGE;

use crate::helpers::{Backend, TestApp, backends, spawn_app};

async fn send(app: &TestApp, method: Method, path: &str) -> Response {
    app.client
        .request(method, app.url(path))
        .send()
        .await
        .expect("request")
}

async fn answer(response: Response, status: StatusCode) -> (Option<String>, Value) {
    assert_eq!(response.status(), status, "{}", response.url());
    let allow = response
        .headers()
        .get(ALLOW)
        .map(|v| v.to_str().unwrap().to_string());
    (allow, response.json().await.expect("a JSON body"))
}

#[apply(backends)]
async fn unknown_kitsu_routes_answer_as_zou(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/auth/no-such-thing",
        "/api/data/no-such-model",
        "/actions/nope",
    ] {
        let response = send(&app, Method::GET, path).await;
        assert_eq!(
            response.headers()["x-frame-options"],
            "SAMEORIGIN",
            "Zou's headers on {path}"
        );
        let (_, body) = answer(response, StatusCode::NOT_FOUND).await;
        assert_eq!(
            body,
            json!({"error": true, "message": NOT_FOUND_MESSAGE}),
            "{path}"
        );
    }
    // `/auth/logout` is GET only.
    for path in ["/auth/logout", "/api/auth/logout"] {
        let response = send(&app, Method::POST, path).await;
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let (allow, body) = answer(response, StatusCode::METHOD_NOT_ALLOWED).await;
        assert_eq!(allow.as_deref(), Some("GET,HEAD"), "{path}");
        assert_eq!(
            body,
            json!({"error": true, "message": "The method is not allowed for the requested URL."})
        );
    }
}

#[apply(backends)]
async fn unknown_workspaces_routes_answer_with_a_msg(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let path = "/api/bucket/5f0c0ffee0c0ffee0c0ffee0/no_such_action";
    let (_, body) = answer(send(&app, Method::POST, path).await, StatusCode::NOT_FOUND).await;
    assert_eq!(body, json!({"msg": format!("Cannot POST {path}")}));
    let (_, body) = answer(
        send(&app, Method::GET, "/api/oauth/nope").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(body, json!({"msg": "Cannot GET /api/oauth/nope"}));
    let (allow, body) = answer(
        send(&app, Method::DELETE, "/api/misc/plans").await,
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    assert_eq!(allow.as_deref(), Some("GET,HEAD"));
    assert_eq!(body, json!({"msg": "Cannot DELETE /api/misc/plans"}));
}

#[apply(backends)]
async fn unknown_datacube_routes_keep_the_document_service_shape(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/core/no-such-thing",
        "/api/no-such-thing",
        "/no/such/thing",
    ] {
        let (_, body) = answer(send(&app, Method::GET, path).await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["success"], false, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let (allow, body) = answer(
        send(&app, Method::DELETE, "/core/login").await,
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    assert_eq!(allow.as_deref(), Some("POST"));
    assert_eq!(
        body,
        json!({"success": false, "error": {"code": "method_not_allowed", "message": "Method \"DELETE\" not allowed."}})
    );
}

/// The answer of the router's fallbacks for this request, if it is one: a 405, or the 404 body
/// of the path's surface for an unknown route.
fn unrouted(method: &Method, path: &str, status: StatusCode, body: &Value) -> bool {
    status == StatusCode::METHOD_NOT_ALLOWED
        || (status == StatusCode::NOT_FOUND
            && (*body == json!({"error": true, "message": NOT_FOUND_MESSAGE})
                || *body == json!({"msg": format!("Cannot {method} {path}")})
                || body["error"]["message"] == "no such endpoint"))
}

#[apply(backends)]
async fn every_documented_route_is_served(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = send(&app, Method::GET, "/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        doc["paths"]["/api/bucket/{id}/invitation/{email}"]["delete"].is_object(),
        "the 2017 invitation route is documented"
    );
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        // Dummy values for the path parameters: a bucket-shaped id fits every one but a
        // tracker model's name, which must be a registered model (an unknown one answers
        // Zou's 404, the same body as an unknown route), and the tracker's typed lists and
        // children and a project's settings lists, which must be ones served there.
        let model = if template.contains("{child}") {
            "sequences"
        } else if template.ends_with("/all") {
            "assets"
        } else {
            "departments"
        };
        let path = template
            .split('/')
            .map(|s| match s {
                "{model}" => model,
                "{child}" => "shots",
                "{setting}" => "task-status",
                s if s.starts_with('{') => "5f0c0ffee0c0ffee0c0ffee0",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = send(&app, method.clone(), &path).await;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(
                !unrouted(&method, &path, status, &body),
                "{method} {template} is documented but not served: {status} {body}"
            );
            // Every route also answers with a trailing slash, as Zou and the original
            // DataCube do (a read answers alike; a write may not, having written once).
            let slashed = format!("{path}/");
            let response = send(&app, method.clone(), &slashed).await;
            let slash_status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(
                !unrouted(&method, &slashed, slash_status, &body),
                "{method} {template}/ is not served: {slash_status} {body}"
            );
            if method == Method::GET {
                assert_eq!(slash_status, status, "GET {slashed}: {body}");
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
}
