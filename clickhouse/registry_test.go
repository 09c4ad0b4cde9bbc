package clickhouse_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestRegistryStoresModelsAndTracksTheChampion(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	day := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	art := []byte{0, 1, 2, 255, 'x'} // artifacts are binary
	var versions []churn.ModelVersion
	for i, algo := range []string{"logistic", "xgboost", "xgboost"} {
		v, err := c.SaveModel(ctx, churn.Model{
			Algorithm: algo, Params: map[string]string{"eta": "0.1"}, Features: []string{"tenure_days", "monthly_fee"},
			TrainFrom: day, TrainTo: day.AddDate(0, 3, 0), HoldoutAsOf: day.AddDate(0, 4, 0),
			Metrics: map[string]float64{"roc_auc": 0.7 + float64(i)/100}, LibraryVersions: map[string]string{"xgboost": "1.7.4"},
			Artifact: art,
		})
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if versions[0] != 1 || versions[2] != 3 {
		t.Fatalf("versions %v, want 1..3", versions)
	}
	m, err := c.Model(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Artifact, art) || m.Algorithm != "xgboost" || m.Metrics["roc_auc"] != 0.71 || m.Features[1] != "monthly_fee" || !m.HoldoutAsOf.Equal(day.AddDate(0, 4, 0)) {
		t.Fatalf("model 2 read back as %+v", m)
	}
	if _, err := c.Model(ctx, 99); churn.ErrorKind(err) != churn.KindNotFound {
		t.Fatalf("unknown version: %v", err)
	}
	if _, err := c.Rollback(ctx, churn.ModelChurn, "t", "nothing yet"); churn.ErrorKind(err) != churn.KindConflict {
		t.Fatalf("rollback without champions: %v", err)
	}
	for _, v := range []churn.ModelVersion{1, 2, 3} {
		if err := c.Promote(ctx, v, "tester", "test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Promote(ctx, 3, "tester", "again"); churn.ErrorKind(err) != churn.KindConflict {
		t.Fatalf("promoting the champion again: %v", err)
	}
	for _, want := range []churn.ModelVersion{2, 1} {
		got, err := c.Rollback(ctx, churn.ModelChurn, "tester", "bad scores")
		if err != nil || got != want {
			t.Fatalf("rollback = %d, %v; want %d", got, err, want)
		}
		champ, _ := c.ChampionVersion(ctx)
		if champ != want {
			t.Fatalf("champion after rollback %d, want %d", champ, want)
		}
	}
	list, err := c.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Version != 3 || list[0].Artifact != nil || !list[2].Champion {
		t.Fatalf("list = %+v", list)
	}
	events, _ := c.ModelEvents(ctx)
	if len(events) != 5 || events[0].Event != "rollback" || events[0].Actor != "tester" || events[0].Previous != 2 {
		t.Fatalf("events = %+v", events)
	}
}
