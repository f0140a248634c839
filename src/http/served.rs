//! Every served route is in `/openapi.json`, and every documented route is served.
//!
//! The served side is read from the router itself, not from the declarations: axum keeps its
//! route table private, but its `Debug` output lists every path with the `Allow` header its
//! method router answers (`allow_header: Bytes(b"GET,HEAD")`). That output is axum 0.8's; if a
//! new axum prints it differently the parse finds nothing and the test says so rather than
//! passing. A route added with a plain `.route()` (or merged, nested, added after the document
//! was built) shows up here as served and undocumented.
use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use serde_json::Value;

use crate::http::state::AppState;
use crate::http::{datacube, kitsu, workspaces};

/// `(METHOD, path template)`.
type Route = (String, String);

/// The methods of a route; `ANY` for a whole service mounted at a path.
fn served(router: &Router<AppState>) -> BTreeSet<Route> {
    let debug = format!("{router:?}");
    // Only the routes, not the fallback router's table.
    let (table, _) = debug
        .split_once("fallback_router:")
        .expect("axum 0.8's Router Debug output");
    let (routes, node) = table
        .split_once("node: Node")
        .expect("axum 0.8's PathRouter Debug output");
    let mut methods: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for chunk in routes.split("RouteId(").skip(1) {
        let (id, rest) = chunk.split_once(')').expect("RouteId(n)");
        let allowed = if rest.starts_with(": MethodRouter(") {
            let allow = rest
                .split_once("allow_header: Bytes(b\"")
                .and_then(|(_, a)| a.split_once('"'))
                .map(|(a, _)| a)
                .unwrap_or_default();
            allow.split(',').map(str::to_string).collect()
        } else {
            vec!["ANY".to_string()]
        };
        methods.insert(id, allowed);
    }
    let mut served = BTreeSet::new();
    for chunk in node.split("RouteId(").skip(1) {
        let (id, rest) = chunk.split_once(')').expect("RouteId(n)");
        let path = rest
            .split_once(": \"")
            .and_then(|(_, p)| p.split_once('"'))
            .map(|(p, _)| p.to_string())
            .expect("a quoted path");
        for method in methods.get(id).into_iter().flatten() {
            served.insert((method.clone(), path.clone()));
        }
    }
    assert!(
        served.len() > 40,
        "read only {} routes from the router's Debug output: has axum changed it?\n{debug}",
        served.len()
    );
    without_implied_heads(served)
}

/// axum answers HEAD wherever it answers GET; the document need not say so.
fn without_implied_heads(routes: BTreeSet<Route>) -> BTreeSet<Route> {
    routes
        .iter()
        .filter(|(method, path)| {
            !(method == "HEAD" && routes.contains(&("GET".to_string(), path.clone())))
        })
        .cloned()
        .collect()
}

/// The `(METHOD, path)` pairs of a document.
fn documented(doc: &utoipa::openapi::OpenApi) -> BTreeSet<Route> {
    let json: Value = serde_json::to_value(doc).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in json["paths"].as_object().expect("paths") {
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            if item.get(method).is_some() {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    without_implied_heads(routes)
}

/// What is served on purpose without documentation: the Kitsu surface's copy under `/api`, the
/// surfaces' listed aliases and the DataCube paths' aliases.
fn undocumented() -> BTreeSet<Route> {
    let mut routes: BTreeSet<Route> = documented(&kitsu::surface().into_openapi())
        .into_iter()
        .map(|(method, path)| {
            let mirrored = if path == "/" {
                kitsu::MIRROR.to_string()
            } else {
                format!("{}{path}", kitsu::MIRROR)
            };
            (method, mirrored)
        })
        .collect();
    for (method, path, _why) in workspaces::UNDOCUMENTED.iter().chain(kitsu::UNDOCUMENTED) {
        routes.insert((method.to_string(), path.to_string()));
    }
    for (method, path) in documented(&datacube::routes().into_openapi()) {
        routes.extend(
            datacube::aliases(&path)
                .into_iter()
                .map(|a| (method.clone(), a)),
        );
    }
    routes
}

fn list(routes: &BTreeSet<Route>) -> String {
    routes
        .iter()
        .map(|(method, path)| format!("  {method} {path}\n"))
        .collect()
}

#[test]
fn every_served_route_is_documented_and_every_documented_route_served() {
    let (router, doc) = crate::http::routes();
    let served = served(&router);
    let documented = documented(&doc);
    let undocumented = undocumented();

    let listed_and_documented: BTreeSet<_> = undocumented.intersection(&documented).collect();
    assert!(
        listed_and_documented.is_empty(),
        "documented routes in an UNDOCUMENTED list: {listed_and_documented:?}"
    );
    let expected: BTreeSet<Route> = documented.union(&undocumented).cloned().collect();
    let not_documented: BTreeSet<Route> = served.difference(&expected).cloned().collect();
    let not_served: BTreeSet<Route> = expected.difference(&served).cloned().collect();
    assert!(
        not_documented.is_empty() && not_served.is_empty(),
        "served but not in /openapi.json (document them, or list an alias in its surface's \
         UNDOCUMENTED):\n{}documented or listed but not served:\n{}",
        list(&not_documented),
        list(&not_served),
    );
}

#[test]
fn the_document_keeps_its_frame() {
    let (_, doc) = crate::http::routes();
    let json: Value = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["info"]["title"], "annals");
    assert_eq!(
        json["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        json["paths"]["/api/bucket/{id}/invitation/{email}"]["delete"]["tags"][0],
        "workspaces: members"
    );
    assert_eq!(
        json["paths"]["/api/bucket/{id}/upgrade"]["post"]["deprecated"],
        true
    );
}
