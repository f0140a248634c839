//! Event metadata of a DataCube request: who, from where, and through which credential (a
//! document's history shows it).
use super::auth::Caller;
use crate::es::commands::Metadata;
use crate::http::auth::Credential;
use crate::http::request::RequestMeta;

pub fn metadata(meta: &RequestMeta, caller: &Caller) -> Metadata {
    let mut metadata = meta.metadata(Some(&caller.user_id));
    metadata.via = match caller.via {
        Credential::Token => caller.session_id.as_ref().map(|s| format!("token:{s}")),
        Credential::ApiKey => caller.key_id.as_ref().map(|k| format!("api_key:{k}")),
    };
    metadata
}
