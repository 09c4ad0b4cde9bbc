package jobs

import "context"

// TrainJob runs Train as a scheduled job, counting its training rows.
type TrainJob struct{ Train *Train }

// Run trains, stores the candidates and applies the champion/challenger rule.
func (j TrainJob) Run(ctx context.Context) error {
	res, err := j.Train.Run(ctx)
	if res != nil {
		AddRows(ctx, int64(res.Rows))
	}
	return err
}

// ScoreJob runs Score as a scheduled job, counting the scores written.
type ScoreJob struct{ Scoring *Scoring }

// Run scores every active customer and publishes the run.
func (j ScoreJob) Run(ctx context.Context) error {
	res, err := j.Scoring.Run(ctx)
	if res != nil {
		AddRows(ctx, int64(res.Rows))
	}
	return err
}
