//! One typed client per API surface, speaking as that surface's real clients do, so tests
//! say what they do (`app.kitsu(token).post("/auth/login", &body)`) instead of building
//! requests.
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

/// gazu's User-Agent: a script, so no cookies are set.
pub const GAZU: &str = "CGWire Gazu 1.3.1";

/// The production tracker, as gazu calls it: under `/api`, JSON bodies, a bearer token.
pub struct Kitsu<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

/// The workspaces surface, as `@pm2/js-api` calls it: a JSON body on every request (`{}` on
/// GET and DELETE), a bearer token.
pub struct Workspaces<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

/// The document service: `Authorization: Bearer <access>` or `Api-Key <key>`.
pub struct Datacube<'a> {
    app: &'a TestApp,
    authorization: Option<String>,
}

impl TestApp {
    pub fn kitsu(&self, token: Option<&str>) -> Kitsu<'_> {
        Kitsu {
            app: self,
            token: token.map(str::to_string),
        }
    }

    pub fn workspaces(&self, token: Option<&str>) -> Workspaces<'_> {
        Workspaces {
            app: self,
            token: token.map(str::to_string),
        }
    }

    /// The document service with a bearer token.
    pub fn datacube(&self, access: &str) -> Datacube<'_> {
        Datacube {
            app: self,
            authorization: Some(format!("Bearer {access}")),
        }
    }

    /// The document service with an API key.
    pub fn datacube_key(&self, key: &str) -> Datacube<'_> {
        Datacube {
            app: self,
            authorization: Some(format!("Api-Key {key}")),
        }
    }
}

fn with_token(request: RequestBuilder, token: &Option<String>) -> RequestBuilder {
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("request")
}

impl Kitsu<'_> {
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self
            .app
            .client
            .request(method, self.app.url(&format!("/api{path}")))
            .header("user-agent", GAZU);
        with_token(request, &self.token)
    }

    pub async fn get(self, path: &str) -> Response {
        send(self.request(Method::GET, path)).await
    }

    /// A request without a body (arguments in the query string).
    pub async fn bodiless(self, method: Method, path: &str) -> Response {
        send(self.request(method, path)).await
    }

    pub async fn send(self, method: Method, path: &str, body: &Value) -> Response {
        send(self.request(method, path).json(body)).await
    }

    pub async fn post(self, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, body).await
    }

    pub async fn put(self, path: &str, body: &Value) -> Response {
        self.send(Method::PUT, path, body).await
    }

    pub async fn delete(self, path: &str, body: &Value) -> Response {
        self.send(Method::DELETE, path, body).await
    }
}

impl Workspaces<'_> {
    pub async fn call(self, method: Method, path: &str, body: Option<Value>) -> Response {
        let body = body.unwrap_or_else(|| Value::Object(Default::default()));
        let request = self
            .app
            .client
            .request(method, self.app.url(path))
            .json(&body);
        send(with_token(request, &self.token)).await
    }

    pub async fn get(self, path: &str) -> Response {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(self, path: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(self, path: &str, body: Value) -> Response {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(self, path: &str) -> Response {
        self.call(Method::DELETE, path, None).await
    }
}

impl Datacube<'_> {
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.app.client.request(method, self.app.url(path));
        match &self.authorization {
            Some(value) => request.header("authorization", value),
            None => request,
        }
    }

    pub async fn get(self, path: &str) -> Response {
        send(self.request(Method::GET, path)).await
    }

    pub async fn post(self, path: &str, body: &Value) -> Response {
        send(self.request(Method::POST, path).json(body)).await
    }

    pub async fn patch(self, path: &str, body: &Value) -> Response {
        send(self.request(Method::PATCH, path).json(body)).await
    }

    pub async fn put(self, path: &str, body: &Value) -> Response {
        send(self.request(Method::PUT, path).json(body)).await
    }

    /// A multipart form (DataCube's import).
    pub async fn multipart(self, path: &str, form: reqwest::multipart::Form) -> Response {
        send(self.request(Method::POST, path).multipart(form)).await
    }

    /// Any method with a JSON body (DataCube's drops and deletes send one with DELETE).
    pub async fn send(self, method: Method, path: &str, body: &Value) -> Response {
        send(self.request(method, path).json(body)).await
    }

    pub async fn delete(self, path: &str) -> Response {
        send(self.request(Method::DELETE, path)).await
    }
}

/// Status and JSON body (a non-JSON body as a string).
pub async fn answer(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}
