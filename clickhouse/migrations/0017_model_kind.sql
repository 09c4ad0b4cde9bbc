-- What each model predicts: churn (the scoring models) or uplift (the
-- retention targeting models of `churn uplift train`). Each kind has its own
-- champion, read from model_events by the kind of the version an event names.
-- Models stored before are churn models.

ALTER TABLE models ADD COLUMN kind String DEFAULT 'churn';
