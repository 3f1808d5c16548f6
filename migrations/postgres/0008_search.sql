-- Full-text search over message bodies: a stored generated `tsvector` of each body (the
-- `simple` configuration: words folded to lower case, no stemming, no stop words) and a
-- GIN index on it. Both are declared on the partitioned parent, so every partition has
-- them, also the months `partitions.rs` creates later (a partition's index is created with
-- it). Adding the column computes it for the messages already stored (a rewrite of each
-- partition, under its lock).
ALTER TABLE messages
    ADD COLUMN body_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_body_tsv ON messages USING GIN (body_tsv);
