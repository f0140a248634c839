//! The OpenAPI 3.1 document's frame: title, description and the bearer security scheme. The
//! paths come from the routes themselves (`crate::http::api`: every route is declared once,
//! with its `#[utoipa::path]`); nothing here lists them.
use bytes::Bytes;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // The document service's keys: `Authorization: Api-Key <key>`.
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Api-Key <key>`",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "annals", description = "Event-sourced backend: workspaces, production tracker and document database APIs over one history of events. Every write answers with `X-Annals-Position`; reads wait for the read models to pass it (or, without the header, the newest committed event)."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// The document without paths: the routers add theirs.
pub fn frame() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The finished document, serialized once, as `GET /openapi.json` serves it (a request
/// extension set by the router).
#[derive(Clone)]
pub struct Document(pub Bytes);

impl Document {
    pub fn new(doc: &utoipa::openapi::OpenApi) -> Self {
        Document(Bytes::from(
            doc.to_json().expect("the OpenAPI document serializes"),
        ))
    }
}
