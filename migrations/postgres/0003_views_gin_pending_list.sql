-- The GIN index on view documents buffers new entries in a pending list and merges it into the
-- index when the list is full. At the default size (4 MB) a merge took over 100 ms inside one
-- projection commit, and every event committed meanwhile waited behind it (relay fence,
-- read-your-writes). Small lists merge often and briefly, and cost less in total (measured).
ALTER INDEX views_doc SET (gin_pending_list_limit = 128);
