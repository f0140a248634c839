//! Who is asking and from where, for event metadata.
use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::es::commands::Metadata;

pub struct RequestMeta {
    pub request_id: Option<String>,
    pub origin: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let origin = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(RequestMeta { request_id, origin })
    }
}

impl RequestMeta {
    pub fn metadata(&self, actor: Option<&str>) -> Metadata {
        Metadata {
            actor: actor.map(str::to_string),
            request_id: self.request_id.clone(),
            origin: self.origin.clone(),
            via: None,
        }
    }
}
