//! Conversations: direct (exactly two members, one per pair) and groups (admins rename
//! and manage members; anyone may leave). Reading history and typing indicators also live
//! here, since both are "what a member may do in a conversation".
//!
//! Every change is announced with `conversation.updated` (each member gets the
//! conversation as they see it) or `conversation.removed` (to whoever left). People who
//! come to share a conversation (it is created, or members are added) are introduced in
//! the same fan-out batch: each learns the other's current `presence`, and later changes
//! reach them because presence is announced to everyone who shares a conversation.

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use uuid::Uuid;

use super::{
    cache::Caches,
    fanout::{Effect, Envelope, Fanout},
    media::MediaLinks,
    presence::Presence,
    receipts::{Receipts, unread_count},
};
use crate::{
    error::{Error, Result},
    protocol::{
        ServerEvent,
        views::{ConversationView, MessageView, ReceiptView},
    },
    store::{Conversation, Member, Page, Store},
};

pub const MAX_GROUP_MEMBERS: usize = 1024;
pub const MAX_PAGE: u32 = 100;

pub struct Conversations {
    store: Arc<dyn Store>,
    fanout: Fanout,
    caches: Arc<Caches>,
    receipts: Arc<Receipts>,
    presence: Presence,
    /// Signs the links of attachments in history and last messages.
    links: Arc<MediaLinks>,
}

fn not_found() -> Error {
    Error::NotFound("no such conversation".into())
}

fn group_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    let n = name.chars().count();
    if !(1..=64).contains(&n) || name.chars().any(char::is_control) {
        return Err(Error::validation("name: must be 1 to 64 characters, without control characters"));
    }
    Ok(name.to_string())
}

impl Conversations {
    pub fn new(
        store: Arc<dyn Store>,
        fanout: Fanout,
        caches: Arc<Caches>,
        receipts: Arc<Receipts>,
        presence: Presence,
        links: Arc<MediaLinks>,
    ) -> Self {
        Self { store, fanout, caches, receipts, presence, links }
    }

    /// The direct conversation with `other`; `true` when it was created now.
    pub async fn open_direct(&self, me: Uuid, other: Uuid) -> Result<(ConversationView, bool)> {
        if me == other {
            return Err(Error::validation("user_id: a direct conversation needs another user"));
        }
        if self.store.existing_users(&[other]).await?.is_empty() {
            return Err(Error::NotFound("no such user".into()));
        }
        let (c, created) = self.store.create_direct(Uuid::now_v7(), me, other, Utc::now()).await?;
        if created {
            self.announce(&c, Some(Effect::Joined { conversation_id: c.id }), &[me, other]).await?;
        }
        Ok((self.view_for(me, c).await?, created))
    }

    pub async fn create_group(&self, me: Uuid, name: &str, member_ids: &[Uuid]) -> Result<ConversationView> {
        let name = group_name(name)?;
        let mut ids: Vec<Uuid> = member_ids.iter().copied().filter(|m| *m != me).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() + 1 > MAX_GROUP_MEMBERS {
            return Err(Error::validation(format!("member_ids: a group has at most {MAX_GROUP_MEMBERS} members")));
        }
        let existing = self.store.existing_users(&ids).await?;
        if existing.len() != ids.len() {
            return Err(Error::validation("member_ids: some users do not exist"));
        }
        let c = self.store.create_group(Uuid::now_v7(), &name, me, &ids, Utc::now()).await?;
        let everyone: Vec<Uuid> = std::iter::once(me).chain(ids.iter().copied()).collect();
        self.announce(&c, Some(Effect::Joined { conversation_id: c.id }), &everyone).await?;
        self.view_for(me, c).await
    }

    /// My conversations, newest activity first.
    pub async fn list(&self, me: Uuid) -> Result<Vec<ConversationView>> {
        let convs = self.store.conversations_of(me).await?;
        self.views_for(me, convs).await
    }

    pub async fn get(&self, me: Uuid, id: Uuid) -> Result<ConversationView> {
        let c = self.member_conversation(me, id).await?.0;
        self.view_for(me, c).await
    }

    pub async fn rename(&self, me: Uuid, id: Uuid, name: &str) -> Result<ConversationView> {
        let name = group_name(name)?;
        let (c, role) = self.member_conversation(me, id).await?;
        self.require_group_admin(&c, &role)?;
        self.store.rename_conversation(id, &name).await?;
        let c = self.store.conversation(id).await?.ok_or_else(not_found)?;
        self.announce(&c, None, &[]).await?;
        self.view_for(me, c).await
    }

    pub async fn add_members(&self, me: Uuid, id: Uuid, users: &[Uuid]) -> Result<ConversationView> {
        let (c, role) = self.member_conversation(me, id).await?;
        self.require_group_admin(&c, &role)?;
        if users.is_empty() || users.len() > MAX_GROUP_MEMBERS {
            return Err(Error::validation(format!("user_ids: 1 to {MAX_GROUP_MEMBERS} users")));
        }
        let current = self.caches.members(self.store.as_ref(), id).await?;
        let mut fresh: Vec<Uuid> = users.iter().copied().filter(|u| !current.contains(u)).collect();
        fresh.sort_unstable();
        fresh.dedup();
        if current.len() + fresh.len() > MAX_GROUP_MEMBERS {
            return Err(Error::validation(format!("user_ids: a group has at most {MAX_GROUP_MEMBERS} members")));
        }
        if self.store.existing_users(&fresh).await?.len() != fresh.len() {
            return Err(Error::validation("user_ids: some users do not exist"));
        }
        let added = self.store.add_members(id, &fresh, Utc::now()).await?;
        if !added.is_empty() {
            self.announce(&c, Some(Effect::MembersChanged { conversation_id: id }), &added).await?;
        }
        self.view_for(me, c).await
    }

    /// Group admins remove anyone; anyone may remove themselves (leave a group).
    pub async fn remove_member(&self, me: Uuid, id: Uuid, user: Uuid) -> Result<()> {
        let (c, role) = self.member_conversation(me, id).await?;
        if c.kind != "group" {
            return Err(Error::invalid("not_a_group", "members of a direct conversation cannot change"));
        }
        if user != me && role != "admin" {
            return Err(Error::Forbidden("only group admins can remove others".into()));
        }
        if !self.store.remove_member(id, user).await? {
            return Err(Error::NotFound("no such member".into()));
        }
        let removed = ServerEvent::ConversationRemoved { conversation_id: id };
        self.fanout
            .publish(&[Envelope::new(vec![user], &removed).with_effect(Effect::Left { conversation_id: id })])
            .await?;
        self.announce(&c, Some(Effect::MembersChanged { conversation_id: id }), &[]).await
    }

    /// A page of history (`limit` ≤ 100), ordered by `seq`.
    pub async fn messages(&self, me: Uuid, id: Uuid, page: Page, limit: u32) -> Result<Vec<MessageView>> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::validation(format!("limit: must be 1 to {MAX_PAGE}")));
        }
        if let Page::Before(s) | Page::After(s) = page {
            if s < 0 {
                return Err(Error::validation("seq: must not be negative"));
            }
        }
        self.member_conversation(me, id).await?;
        Ok(self.store.messages(id, page, limit).await?.into_iter().map(|m| self.links.message(m)).collect())
    }

    /// A page of history around `seq` (to jump to a reply's original or a search hit):
    /// up to half of `limit` before it, then `seq` itself and what follows.
    pub async fn messages_around(&self, me: Uuid, id: Uuid, seq: i64, limit: u32) -> Result<Vec<MessageView>> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::validation(format!("limit: must be 1 to {MAX_PAGE}")));
        }
        if seq < 1 {
            return Err(Error::validation("around_seq: must be at least 1"));
        }
        self.member_conversation(me, id).await?;
        let mut page = self.store.messages(id, Page::Before(seq), limit / 2).await?;
        let rest = limit - page.len() as u32;
        page.extend(self.store.messages(id, Page::After(seq - 1), rest).await?);
        Ok(page.into_iter().map(|m| self.links.message(m)).collect())
    }

    /// Tell the other members that `me` is (or stopped) typing.
    pub async fn typing(&self, me: Uuid, id: Uuid, active: bool) -> Result<()> {
        let members = self.caches.members(self.store.as_ref(), id).await?;
        if !members.contains(&me) {
            return Err(not_found());
        }
        let to: Vec<Uuid> = members.iter().copied().filter(|m| *m != me).collect();
        self.fanout.send(to, &ServerEvent::Typing { conversation_id: id, user_id: me, active }).await
    }

    /// Every member's receipt pointers.
    pub async fn receipts(&self, me: Uuid, id: Uuid) -> Result<Vec<ReceiptView>> {
        self.member_conversation(me, id).await?;
        let members = self.caches.members(self.store.as_ref(), id).await?;
        self.receipts.pointers_of(id, &members).await
    }

    /// The conversation and my role, or `not_found` (also when I am not a member: the two
    /// are never distinguished).
    async fn member_conversation(&self, me: Uuid, id: Uuid) -> Result<(Conversation, String)> {
        let role = self.store.member_role(id, me).await?.ok_or_else(not_found)?;
        let c = self.store.conversation(id).await?.ok_or_else(not_found)?;
        Ok((c, role))
    }

    fn require_group_admin(&self, c: &Conversation, role: &str) -> Result<()> {
        if c.kind != "group" {
            return Err(Error::invalid("not_a_group", "only groups have a name and managed members"));
        }
        if role != "admin" {
            return Err(Error::Forbidden("only group admins can do this".into()));
        }
        Ok(())
    }

    /// Send every member the conversation as they see it; then, in the same batch,
    /// introduce `newcomers` (members who just came to share it) with
    /// [`Conversations::introductions`].
    async fn announce(&self, c: &Conversation, effect: Option<Effect>, newcomers: &[Uuid]) -> Result<()> {
        let members: Vec<Uuid> = self.store.members_of(&[c.id]).await?.into_iter().map(|(_, m)| m.user.id).collect();
        let mut envelopes = Vec::with_capacity(members.len());
        for m in &members {
            let view = self.view_for(*m, c.clone()).await?;
            let mut env = Envelope::new(vec![*m], &ServerEvent::ConversationUpdated { conversation: view });
            if let Some(e) = effect {
                env = env.with_effect(e);
            }
            envelopes.push(env);
        }
        envelopes.extend(self.introductions(&members, newcomers).await?);
        self.fanout.publish(&envelopes).await
    }

    /// The `presence` events that make newcomers and the other members of a conversation
    /// known to each other: each newcomer's presence goes to every other member, and each
    /// earlier member's presence to the newcomers. One envelope per user whose presence is
    /// told, so a group of n costs n events on the bus, not n².
    async fn introductions(&self, members: &[Uuid], newcomers: &[Uuid]) -> Result<Vec<Envelope>> {
        let newcomers: Vec<Uuid> = newcomers.iter().copied().filter(|n| members.contains(n)).collect();
        if newcomers.is_empty() {
            return Ok(Vec::new());
        }
        let mut envelopes = Vec::with_capacity(members.len());
        for view in self.presence.of(members).await? {
            let to: Vec<Uuid> = match newcomers.contains(&view.user_id) {
                true => members.iter().copied().filter(|m| *m != view.user_id).collect(),
                false => newcomers.clone(),
            };
            if !to.is_empty() {
                envelopes.push(Envelope::new(to, &ServerEvent::Presence(view)));
            }
        }
        Ok(envelopes)
    }

    async fn view_for(&self, me: Uuid, c: Conversation) -> Result<ConversationView> {
        Ok(self.views_for(me, vec![c]).await?.remove(0))
    }

    async fn views_for(&self, me: Uuid, convs: Vec<Conversation>) -> Result<Vec<ConversationView>> {
        let ids: Vec<Uuid> = convs.iter().map(|c| c.id).collect();
        let mut members: HashMap<Uuid, Vec<Member>> = HashMap::new();
        for (c, m) in self.store.members_of(&ids).await? {
            members.entry(c).or_default().push(m);
        }
        let mut last: HashMap<Uuid, MessageView> = self
            .store
            .last_messages(&ids)
            .await?
            .into_iter()
            .map(|m| (m.conversation_id, self.links.message(m)))
            .collect();
        let pointers = self.receipts.pointers_for_user(me, &ids).await?;
        // Retention removed every seq up to this one: they are no longer unread.
        let expired: HashMap<Uuid, i64> = self.store.expired_seqs(&ids).await?.into_iter().collect();
        let unread: Vec<(Uuid, i64)> = convs
            .iter()
            .map(|c| (c.id, pointers.get(&c.id).map_or(0, |p| p.1)))
            .filter(|(id, read)| convs.iter().any(|c| c.id == *id && c.last_seq > *read))
            .collect();
        let mentions: HashMap<Uuid, i64> = match unread.is_empty() {
            true => HashMap::new(),
            false => self.store.mention_counts(me, &unread).await?.into_iter().collect(),
        };
        Ok(convs
            .into_iter()
            .map(|c| {
                let (delivered_seq, read_seq) = pointers.get(&c.id).copied().unwrap_or_default();
                ConversationView {
                    id: c.id,
                    kind: c.kind,
                    name: c.name,
                    created_at: c.created_at,
                    last_seq: c.last_seq,
                    last_message: last.remove(&c.id),
                    last_activity_at: c.last_message_at.unwrap_or(c.created_at),
                    members: members.remove(&c.id).unwrap_or_default().into_iter().map(Into::into).collect(),
                    unread_count: unread_count(c.last_seq, read_seq, expired.get(&c.id).copied().unwrap_or(0)),
                    mention_count: mentions.get(&c.id).copied().unwrap_or(0),
                    last_change_seq: c.last_change,
                    read_seq,
                    delivered_seq,
                }
            })
            .collect())
    }
}
