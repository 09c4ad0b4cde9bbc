package zookeeper

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn/retention"
	"github.com/telcoretain/churn/zookeeper/zktest"
)

func testLease(t *testing.T, addr, path, id string, gained *int) *Lease {
	t.Helper()
	l, err := Open(Options{Servers: []string{addr}, Path: path, ID: id, Addr: id + ":8080", SessionTimeout: 4 * time.Second,
		Claim: true, Gain: func(context.Context) error { *gained++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Release(context.Background()) })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := l.Start(context.Background()); err == nil {
			return l
		} else if time.Now().After(deadline) {
			t.Fatalf("lease %s: %v", id, err)
		}
	}
}

func TestLowestLeaseOwnsAndTheNextTakesOverWithAHigherToken(t *testing.T) {
	addr := zktest.Require(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	path := "/churn-test/" + hex.EncodeToString(b[:]) + "/queue-owner"
	var gainedA, gainedB int
	a := testLease(t, addr, path, "a", &gainedA)
	bl := testLease(t, addr, path, "b", &gainedB)
	if err := a.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.Status().Role != retention.RoleOwner || bl.Status().Role != retention.RoleReader || gainedA != 1 || gainedB != 0 {
		t.Fatalf("a %s (gained %d), b %s (gained %d): want a the owner, having reloaded once, b a reader",
			a.Status().Role, gainedA, bl.Status().Role, gainedB)
	}
	tokA, err := a.Fence()
	if err != nil || tokA == 0 {
		t.Fatalf("owner's fence: %d, %v", tokA, err)
	}
	if _, err := bl.Fence(); err == nil || !strings.Contains(err.Error(), "a:8080") {
		t.Fatalf("reader's fence: %v; want refused naming the owner a:8080", err)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fence(); err == nil {
		t.Fatal("a released the lease but still accepts writes")
	}
	if err := bl.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	tokB, err := bl.Fence()
	if err != nil || bl.Status().Role != retention.RoleOwner || gainedB != 1 {
		t.Fatalf("b after a released: %s, %v (gained %d); want the owner", bl.Status().Role, err, gainedB)
	}
	if tokB <= tokA {
		t.Fatalf("b's token %d is not above a's %d: a's late writes would not be fenced", tokB, tokA)
	}
}
