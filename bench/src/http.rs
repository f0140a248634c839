//! The few API calls the benchmark makes, and the setup of its users.
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

const PASSWORD: &str = "a-strong-and-secure-password";
const POSITION: &str = "x-annals-position";
const CONSISTENCY: &str = "x-annals-consistency";
/// Registrations and logins hash with argon2: a few at a time is all 2 cores can take.
const SETUP_CONCURRENCY: usize = 4;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
}

/// A logged-in user: the `Authorization` header value, and the address it registered with.
#[derive(Clone)]
pub struct User {
    pub bearer: String,
    pub email: String,
}

/// What a `PATCH /core/me` answered.
pub struct Written {
    pub status: StatusCode,
    pub position: Option<String>,
}

/// What a `GET /core/me` answered.
pub struct Read {
    pub status: StatusCode,
    pub stale: bool,
}

impl Api {
    pub fn new(base: &str) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn text(&self, path: &str) -> Result<String, Error> {
        Ok(self
            .client
            .get(self.url(path))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?)
    }

    /// POSTs `body`; a 429 (login rate limit) is retried after its `Retry-After`, a few times.
    async fn post(&self, path: &str, body: Value) -> Result<(StatusCode, Value), Error> {
        for _ in 0..5 {
            let response = self.client.post(self.url(path)).json(&body).send().await?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            return Ok((status, response.json().await.unwrap_or(Value::Null)));
        }
        Err(format!("POST {path}: still rate limited after 5 tries").into())
    }

    /// Changes the caller's name: the cheap command (no hashing).
    pub async fn patch_me(&self, user: &User, n: u64) -> Result<Written, Error> {
        let body =
            json!({"firstName": format!("Bench{n}"), "lastName": format!("Runner{}", n % 97)});
        let response = self
            .client
            .patch(self.url("/core/me"))
            .header("authorization", &user.bearer)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let position = response
            .headers()
            .get(POSITION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        response.bytes().await?;
        Ok(Written { status, position })
    }

    /// Reads the caller's profile, waiting for `position` when given.
    pub async fn get_me(&self, user: &User, position: Option<&str>) -> Result<Read, Error> {
        let mut request = self
            .client
            .get(self.url("/core/me"))
            .header("authorization", &user.bearer);
        if let Some(position) = position {
            request = request.header(POSITION, position);
        }
        let response = request.send().await?;
        let status = response.status();
        let stale = response
            .headers()
            .get(CONSISTENCY)
            .is_some_and(|v| v == "stale");
        response.bytes().await?;
        Ok(Read { status, stale })
    }

    /// `GET path` as `user`; the body is read and dropped.
    pub async fn get(&self, user: &User, path: &str) -> Result<StatusCode, Error> {
        let response = self
            .client
            .get(self.url(path))
            .header("authorization", &user.bearer)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        Ok(status)
    }

    /// POSTs `body` as `user`; anything but a 2xx is an error naming the call.
    async fn post_as(&self, user: &User, path: &str, body: Value) -> Result<Value, Error> {
        let response = self
            .client
            .post(self.url(path))
            .header("authorization", &user.bearer)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("POST {path}: {status} {body}").into());
        }
        Ok(body)
    }
}

/// A bucket for the read phase and the members that read it.
pub struct BucketFixture {
    pub id: String,
    /// The owner and the members added: each may read the bucket.
    pub readers: Vec<User>,
    pub members: usize,
    pub invitations: usize,
}

/// Creates a bucket owned by `users[0]` through the API, adds the next `members - 1` users as
/// members and invites `invitations` addresses nobody registered (pending invitations).
pub async fn bucket_fixture(
    api: &Api,
    users: &[User],
    members: usize,
    invitations: usize,
) -> Result<BucketFixture, Error> {
    let readers: Vec<User> = users.iter().take(members.max(1)).cloned().collect();
    let owner = &readers[0];
    let created = api
        .post_as(
            owner,
            "/api/bucket/create_classic",
            json!({"name": "bench"}),
        )
        .await?;
    let id = created["bucket"]["_id"]
        .as_str()
        .ok_or_else(|| format!("create_classic answered no bucket id: {created}"))?
        .to_string();
    let add = format!("/api/bucket/{id}/add_user");
    for member in &readers[1..] {
        api.post_as(owner, &add, json!({"email": member.email}))
            .await?;
    }
    let run = uuid::Uuid::new_v4().simple().to_string();
    for k in 0..invitations {
        let email = format!("bench-invited-{}-{k}@example.com", &run[..12]);
        api.post_as(owner, &add, json!({"email": email})).await?;
    }
    Ok(BucketFixture {
        id,
        members: readers.len(),
        readers,
        invitations,
    })
}

pub struct Setup {
    pub users: Vec<User>,
    pub elapsed: Duration,
}

/// Registers and logs in `count` fresh users, then has each write once (warms the server up
/// and leaves a real `ProfileUpdated` row for the raw reference to copy).
pub async fn setup_users(api: &Api, count: usize) -> Result<Setup, Error> {
    let started = Instant::now();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let (api, gate) = (api.clone(), gate.clone());
        let email = format!("bench-{}-{i}@example.com", &run[..12]);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            one_user(&api, &email, i).await
        }));
    }
    let mut users = Vec::with_capacity(count);
    for task in tasks {
        users.push(task.await??);
    }
    Ok(Setup {
        users,
        elapsed: started.elapsed(),
    })
}

async fn one_user(api: &Api, email: &str, i: usize) -> Result<User, Error> {
    let (status, body) = api
        .post(
            "/core/register",
            json!({"email": email, "firstName": "Bench", "lastName": format!("User{i}"), "password": PASSWORD}),
        )
        .await?;
    if status != StatusCode::CREATED {
        return Err(format!("register {email}: {status} {body}").into());
    }
    let (status, body) = api
        .post("/core/login", json!({"email": email, "password": PASSWORD}))
        .await?;
    let access = body["access"].as_str().filter(|_| status.is_success());
    let Some(access) = access else {
        return Err(format!("login {email}: {status} {body}").into());
    };
    let user = User {
        bearer: format!("Bearer {access}"),
        email: email.to_string(),
    };
    let written = api.patch_me(&user, 0).await?;
    if !written.status.is_success() || written.position.is_none() {
        return Err(format!("PATCH /core/me for {email}: {}", written.status).into());
    }
    Ok(user)
}
