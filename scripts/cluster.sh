#!/usr/bin/env bash
# Starts (`make cluster`) or stops (`make cluster-stop`, with argument "stop") a
# ClickHouse cluster on loopback: ZooKeeper (Debian zookeeperd) on 127.0.0.1:2181
# and four clickhouse-server processes, two shards of two replicas, forming the
# cluster churn_cluster. Each server has its own copy of the Debian
# config.xml/users.xml with its own ports, paths, macros, <zookeeper> and
# <remote_servers>; data and logs live under $CHURN_CLUSTER_DIR. The shared
# single-node server on 9000/8123/9009 is never touched. Idempotent: what runs
# already is left alone.
#
# Node  shard replica  tcp    http   interserver
# s1r1  01    s1r1     19001  18001  19011
# s1r2  01    s1r2     19002  18002  19012
# s2r1  02    s2r1     19003  18003  19013
# s2r2  02    s2r2     19004  18004  19014
set -euo pipefail

DIR="${CHURN_CLUSTER_DIR:-/var/lib/churn-cluster}"
CLUSTER="${CHURN_CLUSTER_NAME:-churn_cluster}"
WAIT="${CHURN_CLUSTER_WAIT:-90}"
ZK_PORT=2181
NODES=(s1r1 s1r2 s2r1 s2r2)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

node_index() { # s1r1 -> 1 ... s2r2 -> 4
  local i
  for i in "${!NODES[@]}"; do [ "${NODES[$i]}" = "$1" ] && echo $((i + 1)); done
}
tcp_port() { echo $((19000 + $(node_index "$1"))); }
http_port() { echo $((18000 + $(node_index "$1"))); }
interserver_port() { echo $((19010 + $(node_index "$1"))); }
shard_of() { local n="$1"; echo "0${n:1:1}"; }

ch_ready() {
  clickhouse-client --host 127.0.0.1 --port "$1" -q "SELECT 1" >/dev/null 2>&1
}

zk_ready() {
  # "ruok" is whitelisted below; a healthy server answers "imok".
  local answer
  answer=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ZK_PORT && printf ruok >&3 && cat <&3" 2>/dev/null) || true
  [ "$answer" = "imok" ]
}

node_pid() {
  local f="$DIR/$1/server.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

stop_all() {
  local n pid
  for n in "${NODES[@]}"; do
    if pid=$(node_pid "$n"); then
      kill "$pid"
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "cluster: stopped $n (pid $pid)"
    fi
    rm -f "$DIR/$n/server.pid"
  done
  if [ -f "$DIR/zookeeper/zoo.cfg" ] && zk_ready; then
    /usr/share/zookeeper/bin/zkServer.sh stop "$DIR/zookeeper/zoo.cfg" >/dev/null 2>&1 || true
    echo "cluster: stopped ZooKeeper"
  fi
}

if [ "${1:-start}" = "stop" ]; then
  stop_all
  exit 0
fi

pkgs=()
command -v clickhouse-server >/dev/null 2>&1 || pkgs+=(clickhouse-server clickhouse-client)
[ -x /usr/share/zookeeper/bin/zkServer.sh ] || pkgs+=(zookeeperd)
if [ "${#pkgs[@]}" -gt 0 ]; then
  echo "cluster: installing ${pkgs[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

as_root mkdir -p "$DIR/zookeeper/data"

# ZooKeeper: our own config, loopback only, no admin web server (it would take
# 8080, the default port of `churn serve`).
zk_fresh=0
if ! zk_ready; then
  # No snapshot or transaction log: this ZooKeeper starts empty.
  [ -n "$(ls -A "$DIR/zookeeper/data/version-2" 2>/dev/null)" ] || zk_fresh=1
  cat >"$DIR/zookeeper/zoo.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$DIR/zookeeper/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,stat
maxClientCnxns=200
# Keep three snapshots and their logs, purged hourly: without this the
# transaction logs of every run pile up (1.5 GB after a few weeks of tests
# and a million-customer seed here), and a restart replays them all.
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
EOF
  echo "cluster: starting ZooKeeper on 127.0.0.1:$ZK_PORT"
  ZOO_LOG_DIR="$DIR/zookeeper" /usr/share/zookeeper/bin/zkServer.sh start "$DIR/zookeeper/zoo.cfg" >"$DIR/zookeeper/start.log" 2>&1 \
    || { cat "$DIR/zookeeper/start.log" >&2; exit 1; }
  for _ in $(seq 1 "$WAIT"); do zk_ready && break; sleep 1; done
  zk_ready || { echo "cluster: ZooKeeper did not answer on 127.0.0.1:$ZK_PORT within ${WAIT}s" >&2; exit 1; }
fi

remote_servers() {
  local s r
  echo "  <remote_servers>"
  echo "    <$CLUSTER>"
  for s in 1 2; do
    echo "      <shard>"
    echo "        <internal_replication>true</internal_replication>"
    for r in 1 2; do
      echo "        <replica><host>127.0.0.1</host><port>$(tcp_port "s${s}r${r}")</port></replica>"
    done
    echo "      </shard>"
  done
  echo "    </$CLUSTER>"
  echo "  </remote_servers>"
}

# write_users NODE: Debian's users.xml with the default profile of the
# cluster. It reads a Distributed table inside a subquery or JOIN of a
# distributed query once, for all shards (GLOBAL): right whatever the join
# key. And it takes each shard's first live replica, in the order of
# remote_servers, for reads and for synchronous inserts alike (in_order, not
# random): replication is asynchronous, so a read sent to the other replica
# could miss rows a command has just written. (18.16 takes these string
# settings from a profile only; the Go driver can send numeric settings alone
# to a server this old.) A running server reloads the file by itself.
write_users() {
  sed -e '0,/<max_memory_usage>/s|<max_memory_usage>|<distributed_product_mode>global</distributed_product_mode><max_memory_usage>|' \
    -e 's|<load_balancing>random</load_balancing>|<load_balancing>in_order</load_balancing>|' \
    /etc/clickhouse-server/users.xml >"$DIR/$1/users.xml"
}

# write_config NODE: the Debian config.xml with this node's ports and paths,
# and the cluster's sections in place of the optional includes.
write_config() {
  local n="$1" d="$DIR/$1"
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/format_schemas" "$d/log"
  {
    sed -e '/<remote_servers/,/<\/remote_servers>/d' \
      -e '/<zookeeper incl=/d' -e '/<macros incl=/d' \
      -e "s|<tcp_port>9000</tcp_port>|<tcp_port>$(tcp_port "$n")</tcp_port>|" \
      -e "s|<http_port>8123</http_port>|<http_port>$(http_port "$n")</http_port>|" \
      -e "s|<interserver_http_port>9009</interserver_http_port>|<interserver_http_port>$(interserver_port "$n")</interserver_http_port><interserver_http_host>127.0.0.1</interserver_http_host><listen_host>127.0.0.1</listen_host>|" \
      -e "s|<path>/var/lib/clickhouse/</path>|<path>$d/data/</path>|" \
      -e "s|<tmp_path>/var/lib/clickhouse/tmp/</tmp_path>|<tmp_path>$d/tmp/</tmp_path>|" \
      -e "s|<user_files_path>/var/lib/clickhouse/user_files/</user_files_path>|<user_files_path>$d/user_files/</user_files_path>|" \
      -e "s|<format_schema_path>/var/lib/clickhouse/format_schemas/</format_schema_path>|<format_schema_path>$d/format_schemas/</format_schema_path>|" \
      -e "s|/var/log/clickhouse-server/clickhouse-server|$d/log/server|" \
      -e "s|<size>1000M</size>|<size>50M</size>|" -e "s|<count>10</count>|<count>2</count>|" \
      -e '/<\/yandex>/d' /etc/clickhouse-server/config.xml
    remote_servers
    cat <<EOF
  <zookeeper>
    <node><host>127.0.0.1</host><port>$ZK_PORT</port></node>
    <session_timeout_ms>30000</session_timeout_ms>
  </zookeeper>
  <macros>
    <cluster>$CLUSTER</cluster>
    <shard>$(shard_of "$n")</shard>
    <replica>$n</replica>
  </macros>
</yandex>
EOF
  } >"$d/config.xml"
  write_users "$n"
  # The copy must have moved every port and path off the shared server's.
  if grep -q -E '<(tcp_port|http_port|interserver_http_port)>(9000|8123|9009)<|/var/lib/clickhouse/' "$d/config.xml"; then
    echo "cluster: $d/config.xml still names a port or path of the shared server; the Debian config.xml changed shape" >&2
    exit 1
  fi
}

started=()
for n in "${NODES[@]}"; do
  port=$(tcp_port "$n")
  if ch_ready "$port"; then
    # Started by an older version of this script: bring its profile up to date.
    grep -q '<load_balancing>in_order<' "$DIR/$n/users.xml" || write_users "$n"
    continue
  fi
  as_root mkdir -p "$DIR/$n"
  # A ZooKeeper that starts without its data (lost or removed) would keep the
  # nodes from starting: 18.16 refuses replicated tables whose ZooKeeper
  # nodes are gone. Scratch databases the test suite left behind
  # (churn_test_*) are then dropped; anything else on the node is kept, and
  # a node that is only restarted (ZooKeeper kept its data) keeps them all.
  if [ "$zk_fresh" = 1 ]; then
    as_root rm -rf "$DIR/$n"/data/metadata/churn_test_* "$DIR/$n"/data/data/churn_test_*
  fi
  write_config "$n"
  as_root chown -R clickhouse:clickhouse "$DIR/$n"
  echo "cluster: starting $n (shard $(shard_of "$n")) on 127.0.0.1:$port"
  as_root setsid su -s /bin/sh clickhouse -c \
    "echo \$\$ >$DIR/$n/server.pid; exec clickhouse-server --config-file=$DIR/$n/config.xml >$DIR/$n/log/stdout.log 2>&1" </dev/null >/dev/null 2>&1 &
  started+=("$n")
done

for n in "${NODES[@]}"; do
  port=$(tcp_port "$n")
  for _ in $(seq 1 "$WAIT"); do ch_ready "$port" && break; sleep 1; done
  if ! ch_ready "$port"; then
    echo "cluster: $n did not answer on 127.0.0.1:$port within ${WAIT}s; see $DIR/$n/log/server.err.log" >&2
    exit 1
  fi
done

# Every node must see the whole cluster and reach ZooKeeper. A server that
# has just started may not have its ZooKeeper session yet: wait for it.
node_ok() {
  local port hosts zk
  port=$(tcp_port "$1")
  hosts=$(clickhouse-client --port "$port" -q "SELECT count() FROM system.clusters WHERE cluster = '$CLUSTER'" 2>&1) || true
  zk=$(clickhouse-client --port "$port" -q "SELECT count() FROM system.zookeeper WHERE path = '/'" 2>&1) || true
  [ "$hosts" = 4 ] && [[ "$zk" =~ ^[1-9][0-9]*$ ]] && return 0
  why="sees ${hosts} hosts of $CLUSTER (want 4); ZooKeeper answers: ${zk:0:300}"
  return 1
}
for n in "${NODES[@]}"; do
  why=""
  for _ in $(seq 1 "$WAIT"); do node_ok "$n" && break; sleep 1; done
  if ! node_ok "$n"; then
    echo "cluster: $n $why; see $DIR/$n/log/server.err.log" >&2
    exit 1
  fi
done
echo "cluster: $CLUSTER ready: 2 shards x 2 replicas on 127.0.0.1:$(tcp_port s1r1)-$(tcp_port s2r2), ZooKeeper 127.0.0.1:$ZK_PORT${started:+ (started ${started[*]})}"
