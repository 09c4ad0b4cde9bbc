package features

import "testing"

func TestKeyIndexFindsKeysThatShareTheirLowBits(t *testing.T) {
	const n = 1000
	ix := newKeyIndex(n)
	// Every key has the same low bits, so every one probes past the others
	// and the probes wrap around the end of the table.
	key := func(i int) uint64 { return uint64(i+1)<<40 | uint64(len(ix.keys)-3) }
	for i := range n {
		if p, seen := ix.add(key(i), int32(i)); seen || p != int32(i) {
			t.Fatalf("add key %d: position %d, seen %v", i, p, seen)
		}
	}
	if p, seen := ix.add(key(7), 99); !seen || p != 7 {
		t.Errorf("adding key 7 again gave %d, %v; want its first position 7, true", p, seen)
	}
	for i := range n {
		if p := ix.get(key(i)); p != int32(i) {
			t.Fatalf("key %d at %d, want %d", i, p, i)
		}
	}
	if p := ix.get(key(n)); p != -1 {
		t.Errorf("a key never added at %d, want -1", p)
	}
}
