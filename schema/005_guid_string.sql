-- 005_guid_string.sql: stable ids that are GUIDs (Active Directory's
-- objectGUID, 16 raw bytes) were stored as the hex of their bytes
-- (86fd9bc926e09743...); they are now stored in AD's own string form, the one
-- its tools and single sign-on show (c99bfd86-e026-4397-...: the first three
-- groups byte-swapped), see daemon/attrmap.c. Convert the ids stored before:
-- exactly 32 lower-case hex digits is the hex of 16 binary bytes, a form no
-- textual id takes unless the directory itself holds such text (then that
-- id must be set back by hand; docs/directories.md). Forward-only, like
-- every migration.

UPDATE people SET dir_id =
	substr(dir_id, 7, 2) || substr(dir_id, 5, 2) || substr(dir_id, 3, 2) ||
	substr(dir_id, 1, 2) || '-' || substr(dir_id, 11, 2) || substr(dir_id, 9, 2) ||
	'-' || substr(dir_id, 15, 2) || substr(dir_id, 13, 2) || '-' ||
	substr(dir_id, 17, 4) || '-' || substr(dir_id, 21, 12)
WHERE length(dir_id) = 32 AND dir_id NOT GLOB '*[^0-9a-f]*';

UPDATE groups SET dir_id =
	substr(dir_id, 7, 2) || substr(dir_id, 5, 2) || substr(dir_id, 3, 2) ||
	substr(dir_id, 1, 2) || '-' || substr(dir_id, 11, 2) || substr(dir_id, 9, 2) ||
	'-' || substr(dir_id, 15, 2) || substr(dir_id, 13, 2) || '-' ||
	substr(dir_id, 17, 4) || '-' || substr(dir_id, 21, 12)
WHERE length(dir_id) = 32 AND dir_id NOT GLOB '*[^0-9a-f]*';
