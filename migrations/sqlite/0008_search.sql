-- Full-text search over message bodies: an FTS5 index whose content is `messages` itself
-- (external content: the text is stored once, in `messages.body`), keyed by the table's
-- implicit rowid. Words are split as Unicode letters and digits, folded to lower case and
-- without diacritics ("Café" is found by "cafe"). Triggers keep the index in step with
-- every insert, change of `body` (an edit; a delete leaves "") and row deletion
-- (retention); the index is then built for the messages already stored.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;

INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
