-- The uplift of each score: the churn a retention action would prevent, as
-- the uplift champion (uplift_model) estimated it when the scoring run
-- scored the customer, from the same snapshot (jobs.Scoring). A plan that
-- targets by uplift reads it instead of computing a snapshot of its own,
-- unless the uplift champion has changed since. Rows written before, and
-- runs with no uplift champion or one trained on other features than the
-- churn champion's, read uplift_model 0: none stored.
--
-- One column per statement: a rerun after a migrate that died between
-- them finds the first column there, of its type, and goes on
-- (Client.addedBefore).
ALTER TABLE scores
    ADD COLUMN uplift Float32 DEFAULT 0;
ALTER TABLE scores
    ADD COLUMN uplift_model UInt32 DEFAULT 0;
