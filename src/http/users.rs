//! `/api/v1/users`: the signed-in user's profile, and user search (to start chats).

use std::sync::Arc;

use poem_openapi::{Object, OpenApi, Tags, param::Query, payload::Json};

use super::{BearerAuth, text::Text};
pub use crate::protocol::views::UserView;
use crate::{error::Error, services::Services};

#[derive(Tags)]
enum ApiTags {
    /// Users
    Users,
}

pub struct UsersApi {
    pub services: Arc<Services>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct PasswordChange {
    current: Text,
    new: Text,
}

/// Fields to change; absent fields stay as they are.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct UpdateMe {
    /// 1–64 characters.
    #[oai(nullable)]
    display_name: Option<Text>,
    /// Changing the password ends every other session.
    #[oai(nullable)]
    password: Option<PasswordChange>,
}

#[OpenApi(prefix_path = "/users", tag = "ApiTags::Users")]
impl UsersApi {
    /// The signed-in user.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: BearerAuth) -> Result<Json<UserView>, Error> {
        let claims = auth.claims(&self.services)?;
        Ok(Json(self.services.accounts.me(claims.sub).await?.into()))
    }

    /// Change the display name or the password.
    #[oai(path = "/me", method = "patch")]
    async fn update_me(&self, auth: BearerAuth, body: Json<UpdateMe>) -> Result<Json<UserView>, Error> {
        let claims = auth.claims(&self.services)?;
        let password = body.0.password.as_ref().map(|p| (&*p.current, &*p.new));
        let user =
            self.services.accounts.update_me(claims.sub, claims.sid, body.0.display_name.as_deref(), password).await?;
        Ok(Json(user.into()))
    }

    /// Users whose username or display name contains `query` (at most 20).
    #[oai(path = "/", method = "get")]
    async fn search(&self, auth: BearerAuth, query: Query<String>) -> Result<Json<Vec<UserView>>, Error> {
        auth.claims(&self.services)?;
        let users = self.services.accounts.search(&query.0).await?;
        Ok(Json(users.into_iter().map(Into::into).collect()))
    }
}
