package serve

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

// metrics are the service's Prometheus metrics, registered on the registry
// the caller passes in (never the global one). All methods accept a nil
// receiver so that a Loader works without them.
type metrics struct {
	requests *prometheus.HistogramVec
	served   *prometheus.CounterVec
	loads    *prometheus.CounterVec
	champion prometheus.Gauge
	storeUp  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, l *Loader, now func() time.Time) *metrics {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "churn_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by method, route template and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "code"}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churn_scores_served_total",
			Help: "Scores returned by the API, by route template.",
		}, []string{"route"}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churn_snapshot_loads_total",
			Help: "Attempts to load a newer scoring run into memory, by result.",
		}, []string{"result"}),
		champion: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "churn_champion_model_version",
			Help: "Version of the champion model in the registry, as last read (0 when none).",
		}),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "churn_clickhouse_up",
			Help: "1 when ClickHouse answered the latest snapshot poll or readiness ping in time, 0 when it did not.",
		}),
	}
	m.loads.WithLabelValues("ok")
	m.loads.WithLabelValues("failed")
	reg.MustRegister(m.requests, m.served, m.loads, m.champion, m.storeUp, &snapshotCollector{l: l, now: now})
	return m
}

func (m *metrics) observe(method, route, code string, d time.Duration) {
	if m != nil {
		m.requests.WithLabelValues(method, route, code).Observe(d.Seconds())
	}
}

func (m *metrics) scoresServed(route string, n int) {
	if m != nil && n > 0 {
		m.served.WithLabelValues(route).Add(float64(n))
	}
}

func (m *metrics) snapshotSwapped(*Snapshot) {
	if m != nil {
		m.loads.WithLabelValues("ok").Inc()
	}
}

func (m *metrics) loadFailed() {
	if m != nil {
		m.loads.WithLabelValues("failed").Inc()
	}
}

func (m *metrics) setStoreUp(up bool) {
	if m != nil {
		v := 0.0
		if up {
			v = 1
		}
		m.storeUp.Set(v)
	}
}

func (m *metrics) setChampion(v churn.ModelVersion) {
	if m != nil {
		m.champion.Set(float64(v))
	}
}

// snapshotCollector reports the snapshot being served at scrape time, and
// nothing while none is loaded (a zero age would look like fresh data).
type snapshotCollector struct {
	l   *Loader
	now func() time.Time
}

var (
	descSnapshotAge = prometheus.NewDesc("churn_snapshot_age_seconds",
		"Seconds since the scoring run being served finished.", nil, nil)
	descSnapshotModel = prometheus.NewDesc("churn_snapshot_model_version",
		"Version of the model that scored the run being served.", nil, nil)
	descSnapshotScores = prometheus.NewDesc("churn_snapshot_scores",
		"Scores in the snapshot being served.", nil, nil)
	descSnapshotLoaded = prometheus.NewDesc("churn_snapshot_loaded_timestamp_seconds",
		"Unix time at which the snapshot being served was loaded.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSnapshotAge
	ch <- descSnapshotModel
	ch <- descSnapshotScores
	ch <- descSnapshotLoaded
}

// Collect implements prometheus.Collector.
func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.l.Snapshot()
	if s == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descSnapshotAge, prometheus.GaugeValue, c.now().Sub(s.run.FinishedAt).Seconds())
	ch <- prometheus.MustNewConstMetric(descSnapshotModel, prometheus.GaugeValue, float64(s.run.ModelVersion))
	ch <- prometheus.MustNewConstMetric(descSnapshotScores, prometheus.GaugeValue, float64(s.Len()))
	ch <- prometheus.MustNewConstMetric(descSnapshotLoaded, prometheus.GaugeValue, float64(s.loadedAt.UnixNano())/1e9)
}

// queueCollector reports what this server's action queue holds in memory,
// and nothing before the log was read.
type queueCollector struct{ q queueStats }

type queueStats interface{ Stats() retention.Stats }

var (
	descQueueActions = prometheus.NewDesc("churn_queue_actions",
		"Retention actions in this server's memory, by status (claims whose lease ran out count as queued).", []string{"status"}, nil)
	descQueueArchivedCycles = prometheus.NewDesc("churn_queue_archived_cycles",
		"Cycles archived: their closed actions left memory.", nil, nil)
	descQueueArchivedContacts = prometheus.NewDesc("churn_queue_archived_contact_customers",
		"Customers whose contact days in archived cycles this server keeps for the contact rules.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descQueueActions
	ch <- descQueueArchivedCycles
	ch <- descQueueArchivedContacts
}

// Collect implements prometheus.Collector.
func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.q.Stats()
	if !st.Loaded {
		return
	}
	for _, s := range churn.ActionStatuses {
		ch <- prometheus.MustNewConstMetric(descQueueActions, prometheus.GaugeValue, float64(st.Actions[s]), string(s))
	}
	ch <- prometheus.MustNewConstMetric(descQueueArchivedCycles, prometheus.GaugeValue, float64(st.ArchivedCycles))
	ch <- prometheus.MustNewConstMetric(descQueueArchivedContacts, prometheus.GaugeValue, float64(st.ArchivedContacts))
}

// registerOwnerGauge exports whether this server owns the queue.
func registerOwnerGauge(reg prometheus.Registerer, o QueueOwnership) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "churn_queue_owner",
		Help: "1 while this server owns the retention action queue and accepts action writes, else 0.",
	}, func() float64 {
		if o != nil && o.Status().Role == retention.RoleOwner {
			return 1
		}
		return 0
	}))
}
