-- 006_username_key.sql, PostgreSQL form of schema/006_username_key.sql; the
-- keys of the rows stored before are computed in C as for SQLite.
ALTER TABLE people ADD COLUMN username_key text COLLATE "C";
CREATE UNIQUE INDEX people_username_key ON people (username_key);
