-- Deliveries of automated actions (email, sms) by the dispatcher
-- (retention/dispatch.go): each delivered, failed or dead-lettered event
-- carries the attempts made so far, so a restarted dispatcher goes on
-- counting toward the dead-letter limit. Rows of other events, and rows
-- written before, read 0. One statement (18.16 has no ADD COLUMN IF NOT
-- EXISTS), last in the file, so a migration that dies before it reruns cleanly.
ALTER TABLE action_events
    ADD COLUMN attempts UInt16 DEFAULT 0;
