// Package zookeeper holds the action queue's lease in ZooKeeper, for
// several `churn serve` processes on one database: each server that may own
// the queue keeps an ephemeral sequential node under the lease path, the
// lowest sequence owns the queue, and the node's creation zxid is the
// fencing token of every event the owner writes. It is the only package that
// speaks to ZooKeeper.
package zookeeper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

// nodePrefix names the lease nodes; ZooKeeper appends a 10-digit sequence.
const nodePrefix = "lease-"

// Options configure a Lease.
type Options struct {
	Servers        []string      // host:port of the ensemble
	Path           string        // parent of the lease nodes, e.g. /churn/DB/queue-owner
	ID             string        // this server's owner id (host:pid:random)
	Addr           string        // advertised HTTP address
	SessionTimeout time.Duration // an owner that dies loses the queue after this long
	Claim          bool          // whether this server may own the queue
	Log            *slog.Logger
	// Gain runs before this server starts writing as the owner: it
	// brings the queue up to the log (the queue's CatchUp).
	Gain func(ctx context.Context) error
}

// Lease is one server's place in the line for the action queue.
type Lease struct {
	o    Options
	conn *zk.Conn

	checkMu sync.Mutex // serialises checks, which alone change the state
	mu      sync.Mutex
	node    string // full path of this server's node; "" when none
	session int64  // the session that created node
	token   uint64 // node's creation zxid
	role    retention.QueueRole
	owner   churn.OwnerClaim
	err     error
}

// nodeData is what a lease node holds, for the other servers.
type nodeData struct {
	Owner string `json:"owner"`
	Addr  string `json:"addr"`
}

type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	l.log.Debug("zookeeper: " + fmt.Sprintf(format, args...))
}

// Open connects to the ensemble; the connection is made in the background
// and kept up by the client.
func Open(o Options) (*Lease, error) {
	if len(o.Servers) == 0 {
		return nil, churn.Invalid("zookeeper lease", "servers", "none given: want host:port,...")
	}
	if !strings.HasPrefix(o.Path, "/") || strings.HasSuffix(o.Path, "/") {
		return nil, churn.Invalid("zookeeper lease", "path", "%q: want an absolute path without a trailing /", o.Path)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Gain == nil {
		o.Gain = func(context.Context) error { return nil }
	}
	conn, events, err := zk.Connect(o.Servers, o.SessionTimeout, zk.WithLogger(zkLogger{o.Log}))
	if err != nil {
		return nil, churn.Unavailable("connect to ZooKeeper", err)
	}
	go func() {
		for range events { // the client drops events nobody reads; drain until Close
		}
	}()
	return &Lease{o: o, conn: conn, role: retention.RoleReader}, nil
}

// Start checks once; the lowest node owns at once, as ZooKeeper orders the
// claims itself.
func (l *Lease) Start(ctx context.Context) error { return l.Check(ctx) }

// Check makes sure this server's node exists in its current session and
// decides its role from the lowest node. It runs on every poll.
func (l *Lease) Check(ctx context.Context) error {
	l.checkMu.Lock()
	defer l.checkMu.Unlock()
	err := l.check(ctx)
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	if err != nil {
		l.o.Log.Warn("action queue: ZooKeeper lease check failed", "role", l.role, "err", err)
	}
	return err
}

func (l *Lease) check(ctx context.Context) error {
	if l.conn.State() != zk.StateHasSession {
		l.lose("no ZooKeeper session")
		return churn.Unavailable("check the queue lease", fmt.Errorf("no ZooKeeper session with %s (state %s)", strings.Join(l.o.Servers, ","), l.conn.State()))
	}
	if err := l.ensurePath(); err != nil {
		return err
	}
	if l.o.Claim && (l.node == "" || l.session != l.conn.SessionID()) {
		if err := l.join(); err != nil {
			return err
		}
	}
	kids, _, err := l.conn.Children(l.o.Path)
	if err != nil {
		return churn.Unavailable("list the queue lease", err)
	}
	kids = slices.DeleteFunc(kids, func(k string) bool { return !strings.Contains(k, nodePrefix) })
	slices.SortFunc(kids, func(a, b string) int { return strings.Compare(seq(a), seq(b)) })
	if len(kids) == 0 {
		l.set(func() { l.role, l.owner = retention.RoleReader, churn.OwnerClaim{} })
		return nil
	}
	first := l.o.Path + "/" + kids[0]
	if first == l.node {
		if l.role != retention.RoleOwner {
			if err := l.o.Gain(ctx); err != nil {
				return fmt.Errorf("take over the action queue: %w", err)
			}
			l.set(func() {
				l.role = retention.RoleOwner
				l.owner = churn.OwnerClaim{Owner: l.o.ID, Addr: l.o.Addr, Term: l.token}
			})
			l.o.Log.Info("action queue: this server owns the queue (ZooKeeper lease)", "owner", l.o.ID, "token", l.token, "node", l.node)
		}
		return nil
	}
	data, stat, err := l.conn.Get(first)
	if err != nil {
		return churn.Unavailable("read the queue lease", err)
	}
	var d nodeData
	_ = json.Unmarshal(data, &d) // a node of another version: named by its path below
	if d.Owner == "" {
		d.Owner = first
	}
	was, prev := l.role, l.owner.Owner
	l.set(func() {
		l.role = retention.RoleReader
		l.owner = churn.OwnerClaim{Owner: d.Owner, Addr: d.Addr, Term: uint64(stat.Czxid)}
	})
	if was == retention.RoleOwner {
		l.o.Log.Warn("action queue: stepping down as owner; another server's lease comes first", "owner", d.Owner, "owner_addr", d.Addr)
	} else if prev != d.Owner {
		l.o.Log.Info("action queue: another server owns the queue; serving reads only", "owner", d.Owner, "owner_addr", d.Addr)
	}
	return nil
}

// seq is the sequence ZooKeeper appended to a node name.
func seq(name string) string {
	if i := strings.LastIndex(name, nodePrefix); i >= 0 {
		return name[i+len(nodePrefix):]
	}
	return name
}

// ensurePath creates the lease path's parents and itself when missing.
func (l *Lease) ensurePath() error {
	parts := strings.Split(strings.TrimPrefix(l.o.Path, "/"), "/")
	for i := range parts {
		p := "/" + strings.Join(parts[:i+1], "/")
		if _, err := l.conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return churn.Unavailable("create the queue lease path "+p, err)
		}
	}
	return nil
}

// join creates this server's node in the current session; a node of an
// expired session is gone with it, so this server queues up again last.
func (l *Lease) join() error {
	data, _ := json.Marshal(nodeData{Owner: l.o.ID, Addr: l.o.Addr})
	session := l.conn.SessionID()
	path, err := l.conn.CreateProtectedEphemeralSequential(l.o.Path+"/"+nodePrefix, data, zk.WorldACL(zk.PermAll))
	if err != nil {
		return churn.Unavailable("join the queue lease", err)
	}
	_, stat, err := l.conn.Exists(path)
	if err != nil || stat == nil {
		return churn.Unavailable("read the queue lease node", fmt.Errorf("%s: %v", path, err))
	}
	l.set(func() { l.node, l.session, l.token = path, session, uint64(stat.Czxid) })
	l.o.Log.Info("action queue: joined the ZooKeeper lease", "node", path, "token", stat.Czxid)
	return nil
}

// lose drops the owner role when the session is gone: ZooKeeper deletes
// the node of an expired session and the next server owns.
func (l *Lease) lose(why string) {
	if l.role == retention.RoleOwner {
		l.o.Log.Warn("action queue: stepping down as owner", "reason", why)
	}
	l.set(func() { l.role = retention.RoleReader })
}

func (l *Lease) set(f func()) {
	l.mu.Lock()
	f()
	l.mu.Unlock()
}

// Fence returns the token to write events with, or why this server may not
// write: it is not the owner, or its session is not the one its lease node
// lives in (the session expired, so another server may own the queue).
func (l *Lease) Fence() (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.role != retention.RoleOwner {
		if l.owner.Addr != "" {
			return 0, churn.Errorf(churn.KindUnavailable, "write action event",
				"this server does not own the retention action queue: send action writes to the owner at %s (%s)", l.owner.Addr, l.owner.Owner)
		}
		return 0, churn.Errorf(churn.KindUnavailable, "write action event",
			"no server owns the retention action queue right now (ZooKeeper lease); retry later")
	}
	if l.conn.State() != zk.StateHasSession || l.conn.SessionID() != l.session {
		return 0, churn.Errorf(churn.KindUnavailable, "write action event",
			"this server lost its ZooKeeper session (state %s); writes are refused until it holds the lease again, retry later", l.conn.State())
	}
	return l.token, nil
}

// Status says who owns the queue as last checked.
func (l *Lease) Status() retention.OwnerStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := retention.OwnerStatus{Role: l.role, Self: l.o.ID, Owner: l.owner, Err: l.err}
	if l.node != "" {
		st.Term = l.token
	}
	return st
}

// Release gives the lease up (its node is deleted, the next server owns at
// once) and closes the connection.
func (l *Lease) Release(context.Context) error {
	l.checkMu.Lock()
	defer l.checkMu.Unlock()
	node := l.node
	l.set(func() { l.role, l.node = retention.RoleReader, "" })
	defer l.conn.Close()
	if node == "" {
		return nil
	}
	if err := l.conn.Delete(node, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return churn.Unavailable("release the queue lease", err)
	}
	return nil
}
