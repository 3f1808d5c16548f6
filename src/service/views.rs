//! How stored rows become the wire views of [`crate::protocol::views`]. (A message's view
//! signs its attachments' links: [`super::media::MediaLinks::message`].)

use crate::{
    protocol::views::{MemberView, UserView},
    store::{Member, User},
};

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            is_admin: u.is_admin,
            created_at: u.created_at,
        }
    }
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self { user: m.user.into(), role: m.role }
    }
}
