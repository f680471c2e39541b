-- 005_guid_string.sql, PostgreSQL form of schema/005_guid_string.sql.
UPDATE people SET dir_id =
	substr(dir_id, 7, 2) || substr(dir_id, 5, 2) || substr(dir_id, 3, 2) ||
	substr(dir_id, 1, 2) || '-' || substr(dir_id, 11, 2) || substr(dir_id, 9, 2) ||
	'-' || substr(dir_id, 15, 2) || substr(dir_id, 13, 2) || '-' ||
	substr(dir_id, 17, 4) || '-' || substr(dir_id, 21, 12)
WHERE length(dir_id) = 32 AND dir_id !~ '[^0-9a-f]';

UPDATE groups SET dir_id =
	substr(dir_id, 7, 2) || substr(dir_id, 5, 2) || substr(dir_id, 3, 2) ||
	substr(dir_id, 1, 2) || '-' || substr(dir_id, 11, 2) || substr(dir_id, 9, 2) ||
	'-' || substr(dir_id, 15, 2) || substr(dir_id, 13, 2) || '-' ||
	substr(dir_id, 17, 4) || '-' || substr(dir_id, 21, 12)
WHERE length(dir_id) = 32 AND dir_id !~ '[^0-9a-f]';
