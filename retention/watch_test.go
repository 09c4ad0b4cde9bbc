package retention

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

func TestWatcherSwapsInAValidChangeAndKeepsTheOldPolicyOtherwise(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	valid := "budget_per_cycle: %s\nactions:\n  sms: {channel: sms, cost: 1, save_rate: 0.1}\nrules:\n  - {name: r, action: sms}\n"
	write(strings.Replace(valid, "%s", "100", 1))
	w, err := NewWatcher(path, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := w.Check(); changed || err != nil {
		t.Fatalf("unchanged file: changed %v err %v", changed, err)
	}
	write(strings.Replace(valid, "%s", "250", 1))
	if changed, err := w.Check(); !changed || err != nil || w.Policy().Budget != 250 {
		t.Fatalf("valid change: changed %v err %v budget %g", changed, err, w.Policy().Budget)
	}
	write(strings.Replace(valid, "%s", "-5", 1))
	changed, err := w.Check()
	if changed || churn.ErrorKind(err) != churn.KindInvalid || w.Policy().Budget != 250 {
		t.Fatalf("invalid change: changed %v err %v budget %g", changed, err, w.Policy().Budget)
	}
	if st := w.Status(); st.Err == nil || st.Rules != 1 {
		t.Fatalf("status %+v", st)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Check(); err == nil || w.Policy().Budget != 250 {
		t.Fatalf("removed file: err %v", err)
	}
	if _, err := NewWatcher(path, 0, nil, nil); churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("watcher on a missing file: %v", err)
	}
}
