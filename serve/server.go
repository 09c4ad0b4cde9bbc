package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
)

// Config is what `churn serve` configures. Zero durations and sizes take the
// defaults of DefaultConfig.
type Config struct {
	Keys         *Keys // API keys; required unless Insecure
	Insecure     bool  // no authentication: every request is admin
	CacheControl string
	PollInterval time.Duration
	HistoryLimit int // scores per customer in /history
	// CORSOrigins are the origins (scheme://host[:port], or "*") whose
	// browser pages may call the API: a dashboard served from another
	// origin. Empty: none, the same origin only.
	CORSOrigins []string

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	ReadyTimeout      time.Duration // for the ClickHouse ping of /readyz
	// StoreTimeout bounds the ClickHouse work of one request (history,
	// models, the action log, ...), so that a ClickHouse that hangs with
	// its socket open gets a 503 in seconds rather than at the driver's
	// read timeout of minutes.
	StoreTimeout time.Duration

	// Database names the ClickHouse database served, told to clients by
	// /v1/me so that tools that write (churn actions simulate) can check
	// they talk to the server of their own database.
	Database string
}

// DefaultConfig returns the defaults: runs are polled every 30 seconds and
// dashboards may reuse a response for a minute before revalidating.
func DefaultConfig() Config {
	return Config{
		CacheControl:      "private, max-age=60, must-revalidate",
		PollInterval:      30 * time.Second,
		HistoryLimit:      36,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ShutdownTimeout:   15 * time.Second,
		ReadyTimeout:      time.Second,
		StoreTimeout:      5 * time.Second,
	}
}

// Deps are the server's collaborators.
type Deps struct {
	Scores   ScoreStore
	Models   ModelRegistry
	Pinger   Pinger
	Jobs     JobScheduler         // nil: this server runs no scheduler and the job routes answer 404
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	Log      *slog.Logger
	Now      func() time.Time // nil: time.Now

	// Retention actions (serve/actions.go); without them those routes answer 503.
	Actions  ActionQueue
	Outcomes OutcomeReader
	Policy   PolicySource
	// Owner says whether this server owns Actions; nil: it does whenever
	// Actions is set (tests, a single server without the owner check).
	Owner QueueOwnership
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	now     func() time.Time
	loader  *Loader
	metrics *metrics
	engine  *gin.Engine
	bands   bandCache
}

// ErrNoKeys is returned by New when no API key is configured and
// authentication was not switched off explicitly.
var ErrNoKeys = errors.New("no API keys are configured: set CHURN_API_KEYS (role:key,...) or --api-keys-file, or pass --insecure-no-auth for a local trial")

// New builds the server. It does not load scores or listen yet: see Run.
func New(cfg Config, deps Deps) (*Server, error) {
	def := DefaultConfig()
	if cfg.CacheControl == "" {
		cfg.CacheControl = def.CacheControl
	}
	for _, d := range []struct{ v, def *time.Duration }{
		{&cfg.PollInterval, &def.PollInterval}, {&cfg.ReadHeaderTimeout, &def.ReadHeaderTimeout},
		{&cfg.ReadTimeout, &def.ReadTimeout}, {&cfg.WriteTimeout, &def.WriteTimeout},
		{&cfg.IdleTimeout, &def.IdleTimeout}, {&cfg.ShutdownTimeout, &def.ShutdownTimeout},
		{&cfg.ReadyTimeout, &def.ReadyTimeout}, {&cfg.StoreTimeout, &def.StoreTimeout},
	} {
		if *d.v <= 0 {
			*d.v = *d.def
		}
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = def.HistoryLimit
	}
	if !cfg.Insecure && cfg.Keys.Len() == 0 {
		return nil, ErrNoKeys
	}
	if deps.Scores == nil || deps.Models == nil || deps.Pinger == nil {
		return nil, fmt.Errorf("serve: Scores, Models and Pinger are required")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Log, now: deps.Now}
	s.loader = NewLoader(deps.Scores, cfg.PollInterval, deps.Log)
	s.loader.now = deps.Now
	s.loader.timeout = cfg.StoreTimeout
	s.metrics = newMetrics(deps.Registry, s.loader, deps.Now)
	s.loader.metrics = s.metrics
	registerOwnerGauge(deps.Registry, deps.Owner)
	if q, ok := deps.Actions.(queueStats); ok {
		deps.Registry.MustRegister(queueCollector{q})
	}
	s.engine = s.routes()
	return s, nil
}

// Loader is the snapshot loader the server reads from.
func (s *Server) Loader() *Loader { return s.loader }

// Handler is the router, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() *gin.Engine {
	// gin keeps its mode in a process-wide variable; debug mode prints every
	// route to stdout, which a service does not want.
	if gin.Mode() == gin.DebugMode {
		gin.SetMode(gin.ReleaseMode)
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.ContextWithFallback = true
	e.Use(requestID, s.observe, s.recoverPanics, s.capHeaders, s.storeDeadline)
	if len(s.cfg.CORSOrigins) > 0 {
		e.Use(cors.New(corsConfig(s.cfg.CORSOrigins)))
	}
	e.NoRoute(func(c *gin.Context) { s.fail(c, errRouteNotFound) })
	e.NoMethod(func(c *gin.Context) { s.fail(c, errMethodNotAllowed) })

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{})))
	e.GET("/openapi.yaml", serveOpenAPI)
	s.dashboardRoutes(e)

	v1 := e.Group("/v1", s.authenticate, s.checkQuery)
	read := v1.Group("", s.require(RoleViewer))
	read.GET("/customers/:id/score", s.customerScore)
	read.GET("/customers/:id/history", s.customerHistory)
	read.GET("/scores", s.listScores)
	read.POST("/scores/batch", s.batchScores)
	read.GET("/summary", s.summary)
	read.GET("/models", s.listModels)
	read.GET("/models/:version", s.getModel)
	read.GET("/me", s.me)
	read.GET("/runs", s.listRuns)
	read.GET("/customers/:id/profile", s.customerProfile)
	admin := v1.Group("", s.require(RoleAdmin))
	admin.POST("/models/:version/promote", s.promoteModel)
	admin.POST("/models/rollback", s.rollbackModel)
	s.jobRoutes(read, admin)

	read.GET("/actions", s.listActions)
	read.GET("/actions/:id", s.getAction)
	read.GET("/retention/lift", s.lift)
	agent := v1.Group("", s.require(RoleAgent))
	agent.POST("/actions/claim", s.claimActions)
	agent.POST("/actions/:id/complete", s.completeAction)
	agent.POST("/actions/:id/cancel", s.cancelAction)
	agent.POST("/actions/:id/answer", s.answerMessage)
	agent.POST("/actions/answers", s.answerMessages)
	admin.POST("/customers/:id/actions", s.addCustomerAction)
	admin.GET("/policy", s.policy)
	return e
}

// Run loads the latest run, then serves on ln until ctx ends, polling for
// newer runs meanwhile; on cancellation it stops accepting requests and lets
// those in flight finish within the shutdown timeout.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.loader.Run(gctx) })
	g.Go(func() error { return s.runActions(gctx) })
	g.Go(func() error { return s.runOwner(gctx) })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve HTTP on %s: %w", ln.Addr(), err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shut down HTTP server: %w", err)
		}
		return nil
	})
	return g.Wait()
}

// corsConfig lets browser pages of origins call the API with an API key
// (Authorization: Bearer, no cookies) and read the headers dashboards use.
func corsConfig(origins []string) cors.Config {
	c := cors.Config{
		AllowMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowHeaders:  []string{"Authorization", "Content-Type", "If-None-Match", "X-Request-ID"},
		ExposeHeaders: []string{"ETag", "Location", "X-Request-ID"},
		MaxAge:        10 * time.Minute,
	}
	if slices.Contains(origins, "*") {
		c.AllowAllOrigins = true
	} else {
		c.AllowOrigins = origins
	}
	return c
}
