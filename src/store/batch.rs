//! The part of [`super::Store::persist_batch`] that is plain Rust, the same for both
//! backends: which messages of a batch are duplicates, which are rejected, and which `seq`
//! each stored one gets. Each backend runs these steps inside its own transaction, between
//! reading (duplicates, members, counters) and writing (the inserts).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Message, NewMessage, Persisted};

/// Per conversation among the messages to store: how many, and the newest `created_at`.
pub(super) type Count = (Uuid, i64, DateTime<Utc>);

/// Classify a batch against stored duplicates and membership. Returns the results with
/// `None` holes for messages to store, and those messages' indices in input order.
pub(super) fn classify(
    batch: &[NewMessage],
    stored: &[Message],
    members: &HashMap<Uuid, Vec<Uuid>>,
) -> (Vec<Option<Persisted>>, Vec<usize>) {
    let mut seen: HashSet<(Uuid, &str)> = HashSet::new();
    let by_client: HashMap<(Uuid, &str), &Message> =
        stored.iter().filter_map(|m| m.client_id.as_deref().map(|c| ((m.sender_id, c), m))).collect();
    let mut results = Vec::with_capacity(batch.len());
    let mut to_store = Vec::new();
    for (i, m) in batch.iter().enumerate() {
        let key = (m.sender_id, m.client_id.as_str());
        if let Some(existing) = by_client.get(&key) {
            results.push(Some(Persisted::Duplicate((*existing).clone())));
        } else if seen.contains(&key) {
            // Filled in after the first copy is stored.
            results.push(None);
        } else if !members.get(&m.conversation_id).is_some_and(|ms| ms.contains(&m.sender_id)) {
            results.push(Some(Persisted::Rejected(m.clone())));
        } else {
            seen.insert(key);
            to_store.push(i);
            results.push(None);
        }
    }
    (results, to_store)
}

/// Per conversation among the messages to store: how many, and the newest `created_at`,
/// in order of first appearance.
pub(super) fn counts(batch: &[NewMessage], to_store: &[usize]) -> Vec<Count> {
    let mut out: Vec<Count> = Vec::new();
    for &i in to_store {
        let m = &batch[i];
        match out.iter_mut().find(|(c, ..)| *c == m.conversation_id) {
            Some((_, n, at)) => {
                *n += 1;
                *at = (*at).max(m.created_at);
            }
            None => out.push((m.conversation_id, 1, m.created_at)),
        }
    }
    out
}

/// Give each message to store its `seq`, in batch order, from each conversation's new
/// counter value (`new_last` = the counter after adding that conversation's count).
pub(super) fn number(
    batch: &[NewMessage],
    to_store: &[usize],
    counts: &[Count],
    new_last: &HashMap<Uuid, i64>,
) -> Vec<(usize, Message)> {
    let mut next: HashMap<Uuid, i64> =
        counts.iter().map(|(c, n, _)| (*c, new_last.get(c).copied().unwrap_or(*n) - n + 1)).collect();
    to_store
        .iter()
        .map(|&i| {
            let m = &batch[i];
            let slot = next.get_mut(&m.conversation_id).expect("counted");
            let seq = *slot;
            *slot += 1;
            (
                i,
                Message {
                    id: m.id,
                    conversation_id: m.conversation_id,
                    seq,
                    sender_id: m.sender_id,
                    client_id: Some(m.client_id.clone()),
                    kind: m.kind.clone(),
                    body: m.body.clone(),
                    attachments: m.attachments.clone(),
                    created_at: m.created_at,
                    reply_to: m.reply_to,
                    reply: m.reply.clone(),
                    mentions: m.mentions.clone(),
                    change_seq: 0,
                    edited_at: None,
                    deleted_at: None,
                    deleted_by: None,
                    pinned_at: None,
                    pinned_by: None,
                    reactions: Vec::new(),
                },
            )
        })
        .collect()
}

/// Fill the holes `classify` left: stored messages, and in-batch repeats as duplicates.
pub(super) fn complete(
    batch: &[NewMessage],
    mut results: Vec<Option<Persisted>>,
    stored: Vec<(usize, Message)>,
) -> Vec<Persisted> {
    let mut by_key: HashMap<(Uuid, String), Message> = HashMap::new();
    for (i, m) in stored {
        by_key.insert((m.sender_id, batch[i].client_id.clone()), m.clone());
        results[i] = Some(Persisted::Stored(m));
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| {
                let m = &batch[i];
                match by_key.get(&(m.sender_id, m.client_id.clone())) {
                    Some(first) => Persisted::Duplicate(first.clone()),
                    None => Persisted::Rejected(m.clone()),
                }
            })
        })
        .collect()
}

/// `(user, conversation, seq, message, message_at)` of every mention among `stored`.
pub(super) fn mentions(stored: &[(usize, Message)]) -> Vec<(Uuid, Uuid, i64, Uuid, DateTime<Utc>)> {
    stored
        .iter()
        .flat_map(|(_, m)| m.mentions.iter().map(|u| (*u, m.conversation_id, m.seq, m.id, m.created_at)))
        .collect()
}
