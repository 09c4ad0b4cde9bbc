-- The training run that stored each model (train_runs): only models of a
-- finished run may be promoted. Empty for models stored before runs were
-- recorded, which count as finished.

ALTER TABLE models ADD COLUMN train_run String;
