//! How stored rows become the wire views of [`crate::protocol::views`].

use crate::{
    protocol::views::{MemberView, MessageView, UserView},
    store::{Member, Message, User},
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

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            seq: m.seq,
            sender_id: m.sender_id,
            kind: m.kind,
            body: m.body,
            created_at: m.created_at,
            client_id: m.client_id,
        }
    }
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self { user: m.user.into(), role: m.role }
    }
}
