//! JWTs (HS256): access, refresh and email-verification tokens.
use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
    VerifyEmail,
}

impl TokenKind {
    pub fn lifetime(self) -> Duration {
        match self {
            TokenKind::Access => Duration::minutes(15),
            TokenKind::Refresh => Duration::days(30),
            TokenKind::VerifyEmail => Duration::days(7),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    #[serde(rename = "typ")]
    pub kind: TokenKind,
    /// The login session the token belongs to (the refresh token's `jti`); revoking the
    /// session refuses every token of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Missing Authorization Header")]
    Missing,
    #[error("Signature has expired")]
    Expired,
    /// Not a JWT at all (wrong number of segments, bad encoding, unsupported algorithm).
    #[error("Not enough segments")]
    Malformed,
    #[error("Signature verification failed")]
    BadSignature,
    #[error("wrong token type")]
    WrongKind,
    #[error("Token has been revoked")]
    Revoked,
}

#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Tokens {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// Issues a token. A refresh token's `jti` is its session id.
    pub fn issue(
        &self,
        kind: TokenKind,
        user_id: &str,
        sid: Option<&str>,
        email: Option<&str>,
    ) -> String {
        let now = Utc::now();
        let jti = match (kind, sid) {
            (TokenKind::Refresh, Some(sid)) => sid.to_string(),
            _ => uuid::Uuid::new_v4().to_string(),
        };
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now.timestamp(),
            exp: (now + kind.lifetime()).timestamp(),
            jti,
            kind,
            sid: sid.map(str::to_string),
            email: email.map(str::to_string),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding of plain claims cannot fail")
    }

    /// Checks signature, algorithm (HS256 only: `alg: none` is refused), expiry and kind.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(
            |e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                _ => TokenError::Malformed,
            },
        )?;
        if data.claims.kind != kind {
            return Err(TokenError::WrongKind);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn an_issued_token_verifies_as_its_kind_only() {
        let t = tokens();
        let access = t.issue(TokenKind::Access, "u1", Some("s1"), None);
        let claims = t.verify(&access, TokenKind::Access).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.sid.as_deref()),
            ("u1", Some("s1"))
        );
        let refresh = t.issue(TokenKind::Refresh, "u1", Some("s1"), None);
        assert_eq!(t.verify(&refresh, TokenKind::Refresh).unwrap().jti, "s1");
        assert_eq!(
            t.verify(&access, TokenKind::Refresh),
            Err(TokenError::WrongKind)
        );
    }

    #[test]
    fn forged_and_unsigned_tokens_are_refused() {
        let other = Tokens::new(b"another-secret-another-secret-xx");
        let forged = other.issue(TokenKind::Access, "u1", None, None);
        assert_eq!(
            tokens().verify(&forged, TokenKind::Access),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            tokens().verify("Bearer None", TokenKind::Access),
            Err(TokenError::Malformed)
        );
        // alg: none
        let unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1MSIsImV4cCI6OTk5OTk5OTk5OSwiaWF0IjoxLCJqdGkiOiJ4IiwidHlwIjoiYWNjZXNzIn0.";
        assert!(tokens().verify(unsigned, TokenKind::Access).is_err());
    }

    #[test]
    fn an_expired_token_says_so() {
        let t = tokens();
        let claims = Claims {
            sub: "u1".into(),
            iat: 1,
            exp: 2,
            jti: "j".into(),
            kind: TokenKind::Access,
            sid: None,
            email: None,
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &t.encoding).unwrap();
        assert_eq!(
            t.verify(&token, TokenKind::Access),
            Err(TokenError::Expired)
        );
        assert_eq!(TokenError::Expired.to_string(), "Signature has expired");
    }
}
