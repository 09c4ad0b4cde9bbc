package jobs

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
)

// DriftMetrics export the latest drift check. A nil *DriftMetrics records
// nothing.
type DriftMetrics struct {
	psi      *prometheus.GaugeVec
	auc      prometheus.Gauge
	retrains prometheus.Counter
}

// NewDriftMetrics registers the drift metrics on reg.
func NewDriftMetrics(reg prometheus.Registerer) *DriftMetrics {
	m := &DriftMetrics{
		psi: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "churn_drift_psi",
			Help: "Population stability index of the latest scoring run against the model's training snapshot: kind=\"score\" for the churn probability, kind=\"feature\" for each of the model's most important features.",
		}, []string{"kind", "feature"}),
		auc: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "churn_drift_holdout_auc",
			Help: "ROC-AUC of the latest scoring run whose horizon has passed, against the churn that followed (NaN until one has).",
		}),
		retrains: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "churn_drift_retrains_total",
			Help: "Retraining runs started by drift checks.",
		}),
	}
	m.auc.Set(math.NaN())
	reg.MustRegister(m.psi, m.auc, m.retrains)
	return m
}

func (m *DriftMetrics) publish(res *DriftResult) {
	if m == nil || res.Run == nil {
		return
	}
	// The features checked change with the model: drop the old series.
	m.psi.Reset()
	m.psi.WithLabelValues(string(churn.DriftScore), "").Set(res.ScorePSI)
	for _, f := range res.Features {
		m.psi.WithLabelValues(string(churn.DriftFeature), f.Name).Set(f.PSI)
	}
	m.auc.Set(res.AUC)
	if res.Retrain {
		m.retrains.Inc()
	}
}
