//! Per-client-address limit on the login endpoints of the three surfaces (the per-account
//! limit is the lockout in the user aggregate). Kept in memory per process; the address is the
//! TCP peer (a proxy in front should do its own limiting, or terminate on the same host).
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;

#[derive(Clone)]
pub struct LoginLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl LoginLimiter {
    /// `per_minute` sustained attempts, with bursts of a tenth of that (at least 5).
    pub fn new(per_minute: u32) -> Self {
        let rate = NonZeroU32::new(per_minute.max(1)).expect("non-zero");
        let burst = NonZeroU32::new((per_minute / 10).max(5)).expect("non-zero");
        Self {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_minute(rate).allow_burst(burst),
            )),
        }
    }

    /// `Err(seconds to wait)` when the address is over its quota.
    fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.limiter.check_key(&ip).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }
}

/// Which answer shape the rejected request expects.
fn is_login(method: &Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    method == Method::POST
        && matches!(
            path,
            "/core/login" | "/auth/login" | "/api/auth/login" | "/api/oauth/token"
        )
}

fn rejection(path: &str, wait: u64) -> Response {
    let message = format!("too many login attempts from this address; retry in {wait} s");
    let body = if path.starts_with("/core") {
        json!({"success": false, "error": {"code": "rate_limited", "message": message}})
    } else if path.starts_with("/api/oauth") {
        json!({"error": "slow_down", "error_description": message})
    } else {
        json!({"error": true, "login": false, "message": message})
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Ok(v) = wait.to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

pub async fn limit_logins(
    State(limiter): State<LoginLimiter>,
    req: Request,
    next: Next,
) -> Response {
    if is_login(req.method(), req.uri().path()) {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        if let Some(Err(wait)) = peer.map(|ip| limiter.check(ip)) {
            metrics::counter!("annals_login_rate_limited_total").increment(1);
            return rejection(req.uri().path(), wait);
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_login_endpoints_are_limited() {
        assert!(is_login(&Method::POST, "/core/login"));
        assert!(is_login(&Method::POST, "/api/auth/login/"));
        assert!(is_login(&Method::POST, "/api/oauth/token"));
        assert!(!is_login(&Method::GET, "/core/login"));
        assert!(!is_login(&Method::POST, "/core/register"));
    }

    #[test]
    fn an_address_over_its_burst_waits() {
        let limiter = LoginLimiter::new(60);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..6 {
            assert!(limiter.check(ip).is_ok());
        }
        assert!(limiter.check(ip).is_err());
        assert!(limiter.check("10.0.0.2".parse().unwrap()).is_ok());
    }
}
