-- 0007: change notifications for the read caches. Same version as
-- postgres/0007_change_notifications.sql, which adds NOTIFY triggers. SQLite needs none: one file,
-- whose `PRAGMA data_version` changes whenever another connection or process commits, is what
-- storage/change_feed.h watches here. This migration only keeps the two version lists equal.
SELECT 1;
