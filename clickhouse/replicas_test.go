package clickhouse

import (
	"strings"
	"testing"
)

// TestReplicaCountsAgreePerShardAndAddUpOverShards covers the decision of
// awaitReplicas without a cluster: replicas of a shard that answered must
// agree, a replica left out does not count, and a shard with none fails.
func TestReplicaCountsAgreePerShardAndAddUpOverShards(t *testing.T) {
	nodes := []ClusterNode{{1, 1, "a:1"}, {1, 2, "a:2"}, {2, 1, "b:1"}, {2, 2, "b:2"}}
	up := &Client{}
	for _, c := range []struct {
		name    string
		live    []*Client
		counts  []uint64
		settled bool
		total   uint64
		err     string
	}{
		{"every replica holds its shard's rows", []*Client{up, up, up, up}, []uint64{6, 6, 4, 4}, true, 10, ""},
		{"a replica still fetching", []*Client{up, up, up, up}, []uint64{6, 6, 4, 0}, false, 10, ""},
		{"a replica left out", []*Client{up, up, nil, up}, []uint64{6, 6, 0, 4}, true, 10, ""},
		// The case CI met: the replica with shard 2's rows died before the
		// other fetched them; what answers adds up to less than was written.
		{"the only copy on a dead replica", []*Client{up, up, nil, up}, []uint64{6, 6, 0, 0}, true, 6, ""},
		{"no replica of a shard", []*Client{up, up, nil, nil}, []uint64{6, 6, 0, 0}, false, 0, "no replica of shard 2 answered"},
	} {
		settled, total, err := replicaCounts(nodes, c.live, c.counts)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || settled != c.settled || total != c.total {
			t.Errorf("%s: settled %v, total %d, error %v; want %v, %d", c.name, settled, total, err, c.settled, c.total)
		}
	}
}
