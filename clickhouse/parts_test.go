package clickhouse

import (
	"fmt"
	"slices"
	"testing"
)

func TestInPartsCoversEveryIDInOrderWithinTheBudget(t *testing.T) {
	var ids []string
	for i := range 50_000 {
		ids = append(ids, fmt.Sprintf("customer-%d", i))
	}
	ids = append(ids, string(make([]byte, idsPerQuery+10))) // one id longer than the budget goes alone
	var got []string
	parts := 0
	if err := inParts(ids, func(part []string) error {
		size := 0
		for _, id := range part {
			size += len(id) + 4
		}
		if len(part) == 0 || (len(part) > 1 && size > idsPerQuery) {
			t.Errorf("part of %d ids, %d bytes", len(part), size)
		}
		got = append(got, part...)
		parts++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, ids) || parts < 2 {
		t.Fatalf("%d parts gave %d ids, want all %d in order", parts, len(got), len(ids))
	}
	if err := inParts(nil, func([]string) error { t.Fatal("a part of no ids"); return nil }); err != nil {
		t.Fatal(err)
	}
}
