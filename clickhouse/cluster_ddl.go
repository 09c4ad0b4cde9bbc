package clickhouse

import (
	"fmt"
	"regexp"
	"strings"
)

// Cluster mode translates the single-node migrations generically, statement
// by statement, so a new migration file needs no cluster twin:
//
//   - CREATE TABLE of a *MergeTree engine with a customer_id column: a local
//     table NAME_local with the Replicated variant of the engine (ZooKeeper
//     path per shard) on every node, plus a Distributed table NAME sharded by
//     cityHash64(customer_id) that the service reads and writes.
//   - CREATE TABLE without customer_id (registry and run tables): the
//     Replicated engine under the usual name with one ZooKeeper path for the
//     whole cluster, so every node holds every row and reads it locally.
//   - CREATE [MATERIALIZED] VIEW: on every node; a materialized view must
//     write TO a table, and its FROM/JOIN tables become the local tables, so
//     it sees each shard's inserts and writes to the same shard.
//   - ALTER TABLE: on one replica of each shard for a sharded table's local
//     table (replication carries it to the other replica); column changes
//     also on every node's Distributed table. On one node for a replicated
//     table.
//   - DROP TABLE: ON CLUSTER, both tables of a sharded one (and of a table
//     no earlier statement created, which a migration that died half way
//     may have left).
//   - RENAME TABLE: ON CLUSTER; of a sharded table, the local tables only:
//     a Distributed table reads the local table of its own name, so
//     renaming a new table's local storage to OLD_local puts it under OLD's
//     Distributed table (a swap: RENAME TABLE old TO x, new TO old).
//   - INSERT ... SELECT: as written, through the Distributed tables.
//
// Anything else is refused with the statement named.

// localSuffix names a sharded table's local storage on each node.
const localSuffix = "_local"

// shardingKey places a row of a sharded table on its shard: all rows of a
// customer live on one shard.
const shardingKey = "cityHash64(customer_id)"

// where a translated statement runs.
type target int

const (
	onOne       target = iota // the node the client is connected to
	onEveryNode               // each node directly (for tables that are not replicated)
	onEachShard               // one replica of each shard (for replicated tables)
)

// clusterStmt is one statement of a translated migration.
type clusterStmt struct {
	sql   string
	where target
}

// clusterLayout knows which tables are sharded by customer; it grows as the
// migrations are translated in order.
type clusterLayout struct {
	sharded map[string]bool // table name -> sharded (false: replicated to every node)
	// pathTag, when set, ends the ZooKeeper path of every table created:
	// for a table re-created under a name a live table had, whose path
	// that table keeps (migration 0019).
	pathTag string
}

func newClusterLayout() *clusterLayout { return &clusterLayout{sharded: map[string]bool{}} }

var (
	createTableRE = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*ENGINE\s*=\s*([A-Za-z]+)(.*)$`)
	createViewRE  = regexp.MustCompile(`(?is)^CREATE\s+(MATERIALIZED\s+)?VIEW\s+(IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
	viewToRE      = regexp.MustCompile(`(?is)^TO\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
	alterRE       = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
	renameRE      = regexp.MustCompile(`(?is)^RENAME\s+TABLE\s+(.*)$`)
	renamePairRE  = regexp.MustCompile(`(?is)^\s*([A-Za-z_][A-Za-z0-9_]*)\s+TO\s+([A-Za-z_][A-Za-z0-9_]*)\s*$`)
	dropRE        = regexp.MustCompile(`(?is)^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*$`)
	insertRE      = regexp.MustCompile(`(?is)^INSERT\s+INTO\s+`)
	customerColRE = regexp.MustCompile(`(?s)(^|,)\s*customer_id\s+String\b`)
	columnAlterRE = regexp.MustCompile(`(?i)\b(ADD|DROP|MODIFY|CLEAR|COMMENT)\s+COLUMN\b`)
	fromJoinRE    = regexp.MustCompile(`(?i)\b(FROM|JOIN)(\s+)([A-Za-z_][A-Za-z0-9_]*)\b`)
	populateRE    = regexp.MustCompile(`(?i)\bPOPULATE\b`)
)

// translate turns one single-node statement into the statements that make the
// same schema on the cluster, and records new tables in the layout.
func (l *clusterLayout) translate(stmt, db, cluster string) ([]clusterStmt, error) {
	stmt = strings.TrimSpace(stmt)
	on := " ON CLUSTER " + cluster
	if m := createTableRE.FindStringSubmatch(stmt); m != nil {
		return l.createTable(m[2], m[3], m[4], m[5], db, on)
	}
	if m := createViewRE.FindStringSubmatch(stmt); m != nil {
		materialized, name, rest := m[1] != "", m[3], m[4]
		if !materialized {
			return []clusterStmt{{fmt.Sprintf("CREATE VIEW IF NOT EXISTS %s.%s%s %s", db, name, on, l.qualify(rest, db, false)), onOne}}, nil
		}
		to := viewToRE.FindStringSubmatch(rest)
		if to == nil {
			return nil, fmt.Errorf("materialized view %s: on a cluster a materialized view must write TO a table created before it", name)
		}
		if populateRE.MatchString(rest) {
			return nil, fmt.Errorf("materialized view %s: POPULATE would run on every replica; backfill with INSERT ... SELECT instead", name)
		}
		dest, ok := l.sharded[to[1]]
		if !ok {
			return nil, fmt.Errorf("materialized view %s: its TO table %s is not created by an earlier statement", name, to[1])
		}
		destName := to[1]
		if dest {
			destName += localSuffix
		}
		return []clusterStmt{{fmt.Sprintf("CREATE MATERIALIZED VIEW IF NOT EXISTS %s.%s%s TO %s.%s %s",
			db, name, on, db, destName, l.qualify(to[2], db, true)), onOne}}, nil
	}
	if m := alterRE.FindStringSubmatch(stmt); m != nil {
		name, rest := m[1], m[2]
		sharded, ok := l.sharded[name]
		if !ok {
			return nil, fmt.Errorf("ALTER TABLE %s: the table is not created by an earlier migration", name)
		}
		if !sharded {
			return []clusterStmt{{fmt.Sprintf("ALTER TABLE %s.%s %s", db, name, rest), onOne}}, nil
		}
		out := []clusterStmt{{fmt.Sprintf("ALTER TABLE %s.%s%s %s", db, name, localSuffix, rest), onEachShard}}
		if columnAlterRE.MatchString(rest) {
			out = append(out, clusterStmt{fmt.Sprintf("ALTER TABLE %s.%s %s", db, name, rest), onEveryNode})
		}
		return out, nil
	}
	if m := dropRE.FindStringSubmatch(stmt); m != nil {
		name := m[2]
		out := []clusterStmt{{fmt.Sprintf("DROP TABLE IF EXISTS %s.%s%s", db, name, on), onOne}}
		if sharded, known := l.sharded[name]; sharded || !known {
			out = append(out, clusterStmt{fmt.Sprintf("DROP TABLE IF EXISTS %s.%s%s%s", db, name, localSuffix, on), onOne})
		}
		delete(l.sharded, name)
		return out, nil
	}
	if m := renameRE.FindStringSubmatch(stmt); m != nil {
		var pairs []string
		for _, p := range strings.Split(m[1], ",") {
			pm := renamePairRE.FindStringSubmatch(p)
			if pm == nil {
				return nil, fmt.Errorf("RENAME TABLE %q: want NAME TO NAME pairs", p)
			}
			from, to := pm[1], pm[2]
			sharded, ok := l.sharded[from]
			if !ok {
				return nil, fmt.Errorf("RENAME TABLE %s: the table is not created by an earlier statement", from)
			}
			if sharded {
				from, to = from+localSuffix, to+localSuffix
			}
			pairs = append(pairs, fmt.Sprintf("%s.%s TO %s.%s", db, from, db, to))
			// in order, as ClickHouse renames: a swap reuses a name
			delete(l.sharded, pm[1])
			l.sharded[pm[2]] = sharded
		}
		return []clusterStmt{{"RENAME TABLE " + strings.Join(pairs, ", ") + on, onOne}}, nil
	}
	if insertRE.MatchString(stmt) {
		return []clusterStmt{{stmt, onOne}}, nil
	}
	first, _, _ := strings.Cut(stmt, "\n")
	return nil, fmt.Errorf("no cluster translation for the statement %q: use CREATE TABLE/VIEW, ALTER TABLE, DROP TABLE, RENAME TABLE or INSERT ... SELECT", first)
}

func (l *clusterLayout) createTable(name, columns, engine, tail, db, on string) ([]clusterStmt, error) {
	if !strings.HasSuffix(engine, "MergeTree") || strings.HasPrefix(engine, "Replicated") {
		return nil, fmt.Errorf("table %s: engine %s has no cluster translation (want a non-replicated *MergeTree engine)", name, engine)
	}
	args, rest, err := engineArgs(tail)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", name, err)
	}
	sharded := customerColRE.MatchString(columns)
	l.sharded[name] = sharded
	local, zkPath := name, fmt.Sprintf("/clickhouse/tables/all/%s/%s", db, name)
	if sharded {
		local = name + localSuffix
		zkPath = fmt.Sprintf("/clickhouse/tables/{shard}/%s/%s", db, local)
	}
	if l.pathTag != "" {
		zkPath += "-" + l.pathTag
	}
	replArgs := fmt.Sprintf("'%s', '{replica}'", zkPath)
	if args != "" {
		replArgs += ", " + args
	}
	out := []clusterStmt{{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s%s (%s) ENGINE = Replicated%s(%s)%s",
		db, local, on, columns, engine, replArgs, rest), onOne}}
	if sharded {
		clusterName := strings.TrimPrefix(on, " ON CLUSTER ")
		out = append(out, clusterStmt{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s%s AS %s.%s ENGINE = Distributed(%s, %s, %s, %s)",
			db, name, on, db, local, clusterName, db, local, shardingKey), onOne})
	}
	return out, nil
}

// engineArgs splits "(args) rest" after an engine name into the arguments
// (without the outer parentheses) and the rest (PARTITION BY, ORDER BY...).
func engineArgs(tail string) (args, rest string, err error) {
	t := strings.TrimLeft(tail, " \t\n")
	if !strings.HasPrefix(t, "(") {
		return "", tail, nil
	}
	depth := 0
	for i, r := range t {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return strings.TrimSpace(t[1:i]), t[i+1:], nil
			}
		}
	}
	return "", "", fmt.Errorf("engine arguments %q: unbalanced parentheses", t)
}

// qualify prefixes the database to the tables a view reads (after FROM and
// JOIN); with local set, sharded tables become their local tables so a
// materialized view sees the inserts of its own shard.
func (l *clusterLayout) qualify(sql, db string, local bool) string {
	return fromJoinRE.ReplaceAllStringFunc(sql, func(s string) string {
		m := fromJoinRE.FindStringSubmatch(s)
		sharded, known := l.sharded[m[3]]
		if !known {
			return s
		}
		name := m[3]
		if local && sharded {
			name += localSuffix
		}
		return m[1] + m[2] + db + "." + name
	})
}
