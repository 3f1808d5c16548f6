//! `/api/v1/auth/*`: register, login, refresh, logout, logout-all.
//!
//! The web client asks for `use_cookie: true`: its refresh token then travels only in the
//! `nexus_refresh` cookie (`HttpOnly; SameSite=Strict; Path=/api/v1/auth`). API clients get
//! it in the body and send it back in the body.

use std::sync::Arc;

use poem::Request;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags, payload::Json};

use super::{BearerAuth, client_ip, text::Text, users::UserView};
use crate::{
    error::{Error, Result},
    service::accounts::{NewAccount, Session},
    services::Services,
};

pub const REFRESH_COOKIE: &str = "nexus_refresh";
const COOKIE_PATH: &str = "/api/v1/auth";

#[derive(Tags)]
enum ApiTags {
    /// Accounts and sessions
    Auth,
}

pub struct AuthApi {
    pub services: Arc<Services>,
}

/// A new account. The first account on a server becomes its administrator.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct RegisterRequest {
    /// 3–32 characters of `a-z 0-9 _ .` (upper case is lowered).
    username: Text,
    /// 1–64 characters.
    display_name: Text,
    /// At least 8 characters.
    password: Text,
    /// Required when the server's registration mode is `invite`.
    #[oai(nullable)]
    invite_code: Option<Text>,
    /// Put the refresh token in an HttpOnly cookie instead of the body (web client).
    #[oai(default)]
    use_cookie: bool,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct LoginRequest {
    username: Text,
    password: Text,
    #[oai(default)]
    use_cookie: bool,
}

/// Send `{}` to use the cookie, or `{"refresh_token": "…"}`.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct RefreshRequest {
    #[oai(nullable)]
    refresh_token: Option<Text>,
}

#[derive(Object)]
struct AuthBody {
    user: UserView,
    /// Bearer token for every other call.
    access_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until `access_token` expires.
    expires_in: u64,
    /// Present unless the refresh token went into the cookie.
    #[oai(skip_serializing_if_is_none)]
    refresh_token: Option<String>,
}

#[derive(ApiResponse)]
enum AuthResponse {
    /// Signed in.
    #[oai(status = 200)]
    Ok(Json<AuthBody>, #[oai(header = "Set-Cookie")] Option<String>),
    /// Account created and signed in.
    #[oai(status = 201)]
    Created(Json<AuthBody>, #[oai(header = "Set-Cookie")] Option<String>),
}

#[derive(ApiResponse)]
enum LoggedOut {
    /// Signed out; the refresh cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

impl AuthApi {
    fn cookie(&self, token: &str) -> String {
        let secure = if self.services.config.auth.secure_cookies { "; Secure" } else { "" };
        format!(
            "{REFRESH_COOKIE}={token}; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            self.services.config.auth.refresh_token_ttl_secs
        )
    }

    fn clear_cookie(&self) -> String {
        format!("{REFRESH_COOKIE}=; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0")
    }

    /// Body and cookie for a session, honouring `use_cookie`.
    fn deliver(&self, s: Session, use_cookie: bool) -> (Json<AuthBody>, Option<String>) {
        let cookie = use_cookie.then(|| self.cookie(&s.refresh_token));
        let body = AuthBody {
            user: s.user.into(),
            access_token: s.access_token,
            token_type: "Bearer".into(),
            expires_in: s.expires_in,
            refresh_token: (!use_cookie).then_some(s.refresh_token),
        };
        (Json(body), cookie)
    }

    /// A request that the browser authenticated with the refresh cookie must come from a
    /// page of this server (or an allowed origin): another site's form or script could
    /// otherwise spend the cookie (CSRF; `SameSite=Strict` already keeps it out of
    /// cross-site requests in current browsers, this holds without it).
    fn same_site(&self, req: &Request, from_cookie: bool) -> Result<(), Error> {
        if from_cookie && !super::origin::allowed(req, &self.services.config.gateway.allowed_origins) {
            return Err(Error::Forbidden("this origin may not use the session cookie".into()));
        }
        Ok(())
    }

    fn ip(&self, req: &Request) -> String {
        client_ip(req, self.services.config.server.trust_forwarded_for)
    }
}

/// The refresh token: from the body if given, else from the cookie. Returns it and
/// whether it came from the cookie.
fn refresh_token_of(req: &Request, body: &RefreshRequest) -> Option<(String, bool)> {
    if let Some(t) = &body.refresh_token {
        return Some((t.0.clone(), false));
    }
    req.headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == REFRESH_COOKIE)
        .map(|(_, v)| (v.to_string(), true))
}

#[OpenApi(prefix_path = "/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account (subject to the server's registration mode) and sign in.
    #[oai(path = "/register", method = "post")]
    async fn register(&self, req: &Request, body: Json<RegisterRequest>) -> Result<AuthResponse, Error> {
        let b = body.0;
        let session = self
            .services
            .accounts
            .register(
                NewAccount {
                    username: &b.username,
                    display_name: &b.display_name,
                    password: &b.password,
                    invite_code: b.invite_code.as_deref(),
                },
                &self.ip(req),
            )
            .await?;
        let (body, cookie) = self.deliver(session, b.use_cookie);
        Ok(AuthResponse::Created(body, cookie))
    }

    /// Sign in with username and password. Rate-limited per client IP and per username.
    #[oai(path = "/login", method = "post")]
    async fn login(&self, req: &Request, body: Json<LoginRequest>) -> Result<AuthResponse, Error> {
        let session = self.services.accounts.login(&body.username, &body.password, &self.ip(req)).await?;
        let (body, cookie) = self.deliver(session, body.use_cookie);
        Ok(AuthResponse::Ok(body, cookie))
    }

    /// Exchange a refresh token (body or cookie) for a new access token and a new refresh
    /// token. A refresh token works once: presenting a used one ends that session.
    #[oai(path = "/refresh", method = "post")]
    async fn refresh(&self, req: &Request, body: Json<RefreshRequest>) -> Result<AuthResponse, Error> {
        let Some((token, from_cookie)) = refresh_token_of(req, &body) else {
            return Err(Error::unauthorized("no refresh token (cookie or body)").with_code("invalid_refresh_token"));
        };
        self.same_site(req, from_cookie)?;
        let session = self.services.accounts.refresh(&token).await?;
        let (body, cookie) = self.deliver(session, from_cookie);
        Ok(AuthResponse::Ok(body, cookie))
    }

    /// End this session (the refresh token's family). Always succeeds.
    #[oai(path = "/logout", method = "post")]
    async fn logout(&self, req: &Request, body: Json<RefreshRequest>) -> Result<LoggedOut, Error> {
        if let Some((token, from_cookie)) = refresh_token_of(req, &body) {
            self.same_site(req, from_cookie)?;
            self.services.accounts.logout(&token).await?;
        }
        Ok(LoggedOut::Done(self.clear_cookie()))
    }

    /// End every session of the signed-in user, on every device.
    #[oai(path = "/logout-all", method = "post")]
    async fn logout_all(&self, auth: BearerAuth) -> Result<LoggedOut, Error> {
        let claims = auth.claims(&self.services)?;
        self.services.accounts.logout_all(claims.sub).await?;
        Ok(LoggedOut::Done(self.clear_cookie()))
    }
}
