package serve

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

func TestParseKeysAcceptsRolesAndRejectsBadEntriesNamingThem(t *testing.T) {
	cases := []struct {
		list    string
		n       int
		wantErr string
	}{
		{"viewer:aaaaaaaaaaaaaaaa, admin:bbbbbbbbbbbbbbbb", 2, ""},
		{"", 0, ""},
		{"viewer:aaaaaaaaaaaaaaaa,,", 1, ""},
		{"aaaaaaaaaaaaaaaa", 0, "entry 1: want role:key"},
		{"viewer:aaaaaaaaaaaaaaaa,root:bbbbbbbbbbbbbbbb", 0, `entry 2: role "root"`},
		{"viewer:short", 0, "at least 16"},
		{"viewer:aaaaaaaaaaaaaaaa,admin:aaaaaaaaaaaaaaaa", 0, "twice"},
		{"agent:dana:aaaaaaaaaaaaaaaa,agent:eve.k@x-1:bbbbbbbbbbbbbbbb", 2, ""},
		{"agent:da na:aaaaaaaaaaaaaaaa", 0, `entry 1: name "da na"`},
		{"agent::aaaaaaaaaaaaaaaa", 0, `name ""`},
		{"agent:dana:short", 0, "at least 16"},
	}
	for _, c := range cases {
		k, err := ParseKeys(c.list, "CHURN_API_KEYS")
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || churn.ErrorKind(err) != churn.KindInvalid {
				t.Errorf("%q: error %v, want one containing %q", c.list, err, c.wantErr)
			}
			continue
		}
		if err != nil || k.Len() != c.n {
			t.Errorf("%q: %d keys, %v", c.list, k.Len(), err)
		}
	}
}

func TestKeysFileSkipsCommentsAndNamesTheBadLine(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "keys")
	os.WriteFile(good, []byte("# team keys\n\nviewer:aaaaaaaaaaaaaaaa\n  admin:bbbbbbbbbbbbbbbb  \n"), 0o600)
	k, err := ReadKeysFile(good)
	if err != nil || k.Len() != 2 {
		t.Fatalf("%d keys, %v", k.Len(), err)
	}
	if role, actor := k.lookup("bbbbbbbbbbbbbbbb"); role != RoleAdmin || !strings.HasPrefix(actor, "api-key:admin:") || strings.Contains(actor, "bbbb") {
		t.Errorf("lookup: %v %q", role, actor)
	}
	named, err := ParseKeys("agent:dana:cccccccccccccccc", "test")
	if err != nil {
		t.Fatal(err)
	}
	if role, actor := named.lookup("cccccccccccccccc"); role != RoleAgent || actor != "agent:dana" || agentName(actor) != "dana" {
		t.Errorf("named key: %v %q", role, actor)
	}
	if role, _ := k.lookup("bbbbbbbbbbbbbbb"); role != RoleNone {
		t.Errorf("a prefix of a key is accepted as %v", role)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("# x\nviewer:aaaaaaaaaaaaaaaa\nagent aaaaaaaa\n"), 0o600)
	if _, err := ReadKeysFile(bad); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad file: %v", err)
	}
	if _, err := ReadKeysFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestNewRefusesToStartWithoutKeysUnlessInsecure(t *testing.T) {
	f := &fakeStore{}
	deps := Deps{Scores: f, Models: f, Pinger: f}
	if _, err := New(Config{}, deps); !errors.Is(err, ErrNoKeys) {
		t.Errorf("no keys: %v", err)
	}
	s, err := New(Config{Insecure: true}, deps)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, store: f, srv: s}
	f.models = testModels()
	if rec := e.do("POST", "/v1/models/1/promote", "", "Authorization", ""); rec.Code != 200 {
		t.Errorf("insecure mode: admin route without a key: %d %s", rec.Code, rec.Body)
	}
}
