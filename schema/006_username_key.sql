-- 006_username_key.sql: usernames compared as LDAP compares a uid. The
-- username column's NOCASE ignores the case of ASCII letters only, so
-- "ÅLICE" and "ålice" were two people. username_key is the username's
-- comparison key (daemon/fold.h: spaces as LDAP prepares them, Unicode case
-- folding with NFKC), computed in C, never in SQL, so that every driver
-- compares the same bytes: unique, and what every lookup by username uses.
-- The rows stored before get their key from the store as it applies this
-- migration (store.c: store_username_keys, the C code the key needs); a
-- row whose key another row already has keeps NULL (the two were one
-- username, the run rejects one of their entries) and is not found by name.
-- Forward-only, like every migration.

ALTER TABLE people ADD COLUMN username_key TEXT;
CREATE UNIQUE INDEX people_username_key ON people (username_key);
