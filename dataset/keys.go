package dataset

import (
	"context"
	"fmt"
	"hash/maphash"
	"strings"

	"github.com/telcoretain/churn"
)

// KeyLookup reads values already stored in the contract tables, so that an
// import can refuse keys that are already there and references to rows that
// are not. Values travel in the canonical text form of a CSV cell: strings as
// stored, Date as YYYY-MM-DD, DateTime as YYYY-MM-DD HH:MM:SS in UTC, numbers
// in decimal. The clickhouse package implements it; tests use a map.
type KeyLookup interface {
	// ScanKeys calls fn with the values of s.Columns of every stored row of
	// s.Table, only rows within s.Range when it is set. vals is reused
	// between calls; an error from fn stops the scan and is returned.
	ScanKeys(ctx context.Context, s KeyScan, fn func(vals []string) error) error
}

// KeyScan names the stored values an import needs.
type KeyScan struct {
	Table   string
	Columns []Column
	Range   *KeyRange // nil: all rows
}

// KeyRange limits a scan to rows whose Column lies in [From, To], given in
// canonical text form. A file of one month of usage only needs that month's
// stored keys.
type KeyRange struct {
	Column   Column
	From, To string
}

// keyIndex finds duplicate keys among the rows of a Columns. It keeps one
// 64-bit hash per distinct key instead of the key itself, and compares the
// rows' values when hashes meet, so a key costs a map entry rather than a copy
// of its strings.
type keyIndex struct {
	names   []string
	vecs    []*vec
	h       maphash.Hash
	first   map[uint64]int32 // hash of a key -> first row with it
	collide map[string]int32 // exact key -> row, for keys whose hash another key already has
}

func newKeyIndex(c *Columns) *keyIndex {
	if len(c.table.Key) == 0 {
		return nil
	}
	k := &keyIndex{names: c.table.Key, first: make(map[uint64]int32)}
	for _, name := range c.table.Key {
		for _, v := range c.vecs {
			if v.col.Name == name {
				k.vecs = append(k.vecs, v)
			}
		}
	}
	return k
}

func (k *keyIndex) sum(i int) uint64 {
	k.h.Reset()
	for _, v := range k.vecs {
		v.hash(&k.h, i)
	}
	return k.h.Sum64()
}

func (k *keyIndex) same(i, j int) bool {
	for _, v := range k.vecs {
		if !v.equal(i, j) {
			return false
		}
	}
	return true
}

func (k *keyIndex) exact(i int) string {
	parts := make([]string, len(k.vecs))
	for j, v := range k.vecs {
		parts[j] = v.format(i)
	}
	return strings.Join(parts, "\x00")
}

// describe names row i's key for people: customer_id=C1 day=2024-01-01.
func (k *keyIndex) describe(i int) string {
	parts := make([]string, len(k.vecs))
	for j, v := range k.vecs {
		parts[j] = v.col.Name + "=" + v.format(i)
	}
	return strings.Join(parts, " ")
}

func (k *keyIndex) column() string { return strings.Join(k.names, ",") }

// add indexes row i and returns the earlier row with the same key, or -1.
func (k *keyIndex) add(i int) int {
	h := k.sum(i)
	j, ok := k.first[h]
	if !ok {
		k.first[h] = int32(i)
		return -1
	}
	if k.same(i, int(j)) {
		return int(j)
	}
	if k.collide == nil {
		k.collide = make(map[string]int32)
	}
	s := k.exact(i)
	if j, ok := k.collide[s]; ok {
		return int(j)
	}
	k.collide[s] = int32(i)
	return -1
}

// find returns an indexed row whose key equals row i's, or -1.
func (k *keyIndex) find(i int) int {
	j, ok := k.first[k.sum(i)]
	if !ok {
		return -1
	}
	if k.same(i, int(j)) {
		return int(j)
	}
	if j, ok := k.collide[k.exact(i)]; ok {
		return int(j)
	}
	return -1
}

// appendStored parses a stored key into the scratch row after the last one.
// Stored strings are not shared: they are gone again after one comparison.
func (k *keyIndex) appendStored(vals []string) bool {
	for j, v := range k.vecs {
		if v.col.Type == String {
			v.str = append(v.str, vals[j])
			if v.col.Nullable {
				v.null = append(v.null, false)
			}
			continue
		}
		if v.appendCell(vals[j]) != "" {
			return false
		}
	}
	return true
}

// keyRange is the span of the first date column of the key over rows [0, n),
// to scan only the stored rows that can collide.
func (k *keyIndex) keyRange(n int) *KeyRange {
	for _, v := range k.vecs {
		if (v.col.Type != Date && v.col.Type != DateTime) || v.col.Nullable || n == 0 {
			continue
		}
		lo, hi := 0, 0
		for i := 1; i < n; i++ {
			if v.num[i] < v.num[lo] {
				lo = i
			}
			if v.num[i] > v.num[hi] {
				hi = i
			}
		}
		return &KeyRange{Column: v.col, From: v.format(lo), To: v.format(hi)}
	}
	return nil
}

// checkStored looks the valid rows' keys and references up in the store: a
// key already stored is refused (imports add rows, they never replace them),
// and so is a reference to a row that does not exist. Problems are added in
// line order.
func checkStored(ctx context.Context, lookup KeyLookup, c *Columns, keys *keyIndex, out *collector) error {
	n := c.n
	if n == 0 {
		return nil
	}
	var conflict []bool
	if keys != nil {
		conflict = make([]bool, n)
		scan := KeyScan{Table: c.table.Name, Range: keys.keyRange(n)}
		for _, v := range keys.vecs {
			scan.Columns = append(scan.Columns, v.col)
		}
		err := lookup.ScanKeys(ctx, scan, func(vals []string) error {
			if keys.appendStored(vals) {
				if r := keys.find(n); r >= 0 {
					conflict[r] = true
				}
			}
			c.truncate(n)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read stored keys of %s: %w", c.table.Name, err)
		}
	}
	refs, err := c.lookupRefs(ctx, lookup)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if conflict != nil && conflict[i] {
			out.add(c.Line(i), keys.column(), "%s is already in table %s; import only adds new rows", keys.describe(i), c.table.Name)
		}
		for _, r := range refs {
			if id := r.v.format(i); !r.v.isNull(i) && !r.found[id] {
				out.add(c.Line(i), r.v.col.Name, "unknown %s %q: not in table %s", r.column, id, r.table)
			}
		}
	}
	return nil
}

type ref struct {
	v             *vec
	table, column string
	found         map[string]bool
}

// lookupRefs reads, for every referencing column, which of the file's values
// the referenced table holds.
func (c *Columns) lookupRefs(ctx context.Context, lookup KeyLookup) ([]ref, error) {
	var refs []ref
	for _, v := range c.vecs {
		if v.col.Ref == "" {
			continue
		}
		table, column, _ := strings.Cut(v.col.Ref, ".")
		rt, ok := TableByName(table)
		rc, ok2 := rt.Column(column)
		if !ok || !ok2 {
			return nil, churn.Errorf(churn.KindInternal, "import "+c.table.Name, "column %s references %s, which is not in the contract", v.col.Name, v.col.Ref)
		}
		r := ref{v: v, table: table, column: column, found: make(map[string]bool)}
		for i := 0; i < c.n; i++ {
			if !v.isNull(i) {
				r.found[v.format(i)] = false
			}
		}
		err := lookup.ScanKeys(ctx, KeyScan{Table: table, Columns: []Column{rc}}, func(vals []string) error {
			if _, ok := r.found[vals[0]]; ok {
				r.found[vals[0]] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s to check %s: %w", v.col.Ref, v.col.Name, err)
		}
		refs = append(refs, r)
	}
	return refs, nil
}
