package serve

import (
	"net/http"
	"testing"
)

func TestModelsListAndShowWithoutArtifactBytes(t *testing.T) {
	e := newEnv(t, 5)
	list := decode[modelsJSON](t, e.do("GET", "/v1/models", ""))
	if len(list.Models) != 3 || list.Models[0].Version != 3 || !list.Models[1].Champion {
		t.Fatalf("models: %+v", list.Models)
	}
	rec := e.do("GET", "/v1/models/2", "")
	m := decode[modelJSON](t, rec)
	if rec.Code != http.StatusOK || m.Version != 2 || m.Kind != "churn" || m.ArtifactBytes != len("model file bytes") || !m.Champion {
		t.Errorf("model: %d %+v", rec.Code, m)
	}
	if _, ok := m.Metrics["pr_auc"]; ok || m.Metrics["roc_auc"] == 0 {
		t.Errorf("metrics: want NaN left out and roc_auc kept: %v", m.Metrics)
	}
	if got := decode[map[string]any](t, rec); got["artifact"] != nil {
		t.Error("artifact served")
	}
}

func TestAdminPromotesAndRollsBackAndAgentAndViewerCannot(t *testing.T) {
	e := newEnv(t, 5)
	admin := []string{"Authorization", "Bearer " + adminKey}
	for _, key := range []string{viewerKey, agentKey} {
		if rec := e.do("POST", "/v1/models/3/promote", "", "Authorization", "Bearer "+key); rec.Code != http.StatusForbidden {
			t.Errorf("promote with a non-admin key: %d", rec.Code)
		}
	}
	rec := e.do("POST", "/v1/models/3/promote", `{"reason": "beats v2 on the May holdout"}`, admin...)
	if rec.Code != http.StatusOK || decode[championJSON](t, rec).Champion != 3 {
		t.Fatalf("promote: %d %s", rec.Code, rec.Body)
	}
	if v, _ := e.store.ChampionVersion(t.Context()); v != 3 {
		t.Errorf("champion %d after promote", v)
	}
	rec = e.do("POST", "/v1/models/rollback", "", admin...)
	if rec.Code != http.StatusOK || decode[championJSON](t, rec).Champion != 2 {
		t.Fatalf("rollback: %d %s", rec.Code, rec.Body)
	}
	e.do("POST", "/v1/models/rollback", "", admin...)
	if rec := e.do("POST", "/v1/models/rollback", "", admin...); rec.Code != http.StatusConflict {
		t.Errorf("rollback with no earlier champion: %d", rec.Code)
	}
}

func TestEveryRoleReadsScores(t *testing.T) {
	e := newEnv(t, 5)
	for _, key := range []string{viewerKey, agentKey, adminKey} {
		if rec := e.do("GET", "/v1/summary", "", "Authorization", "Bearer "+key); rec.Code != http.StatusOK {
			t.Errorf("key %s: %d", key[:5], rec.Code)
		}
	}
}
