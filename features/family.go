package features

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/telcoretain/churn"
)

// Family is a feature family an operator's data scientist adds without
// changing code: one SQL file in the features folder (the features-dir
// setting) that returns one row per customer from the operator's own tables
// as of @as_of. Its header declares the features:
//
//	-- feature: nps_last (score 0-10): Latest NPS answer before the as-of date
//	-- missing: nps_last: NaN when the customer answered no survey before the as-of date.
//
// and the query returns customer_id (String) and then those columns, as
// Float32, in that order. Only @as_of is bound; the point-in-time rule is the
// author's to keep (rows dated before @as_of only), and `churn features
// check` tests that it is kept.
type Family struct {
	Name     string // the file name without .sql
	Path     string
	SQL      string
	Features []churn.Feature // from the header, in column order; Family is Name
	// Tables are the tables the query reads (after FROM or JOIN), which
	// `churn features check` copies into a scratch database.
	Tables []string
}

// Operator is what an operator adds to the built-in features: the words of
// its data and its own feature families.
type Operator struct {
	Vocabulary churn.Vocabulary
	Families   []Family
}

// familySyntax holds the patterns of a family file.
type familySyntax struct {
	name, feature, missing, lineComment, blockComment, stringLit, param, table *regexp.Regexp
}

func newFamilySyntax() familySyntax {
	return familySyntax{
		name:         regexp.MustCompile(`^[a-z][a-z0-9_]*$`),
		feature:      regexp.MustCompile(`^--\s*feature:\s*([A-Za-z0-9_]+)\s*\(([^)]*)\)\s*:\s*(\S.*)$`),
		missing:      regexp.MustCompile(`^--\s*missing:\s*([A-Za-z0-9_]+)\s*:\s*(\S.*)$`),
		lineComment:  regexp.MustCompile(`--[^\n]*`),
		blockComment: regexp.MustCompile(`(?s)/\*.*?\*/`),
		stringLit:    regexp.MustCompile(`'(?:[^'\\]|\\.)*'`),
		param:        regexp.MustCompile(`@([A-Za-z_][A-Za-z0-9_]*)`),
		table:        regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)`),
	}
}

// LoadFamilies reads every *.sql file of dir as a feature family, in name
// order. An empty dir has none. Errors name the file.
func LoadFamilies(dir string) ([]Family, error) {
	if dir == "" {
		return nil, nil
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err == nil {
		if _, err = os.Stat(dir); err != nil {
			err = fmt.Errorf("%s: %w", dir, err)
		}
	}
	if err != nil {
		return nil, &churn.Error{Op: "load feature families", Kind: churn.KindInvalid, Field: "features-dir", Err: err}
	}
	slices.Sort(paths)
	var out []Family
	seen := map[string]string{} // feature -> file
	for _, f := range Registry() {
		seen[f.Name] = "the built-in registry"
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, &churn.Error{Op: "load feature families", Kind: churn.KindInvalid, Field: "features-dir", Err: err}
		}
		fam, err := ParseFamily(p, string(b))
		if err != nil {
			return nil, err
		}
		for _, f := range fam.Features {
			if prev, dup := seen[f.Name]; dup {
				return nil, churn.Invalid("load feature families", "features-dir", "%s: feature %s is already defined by %s", p, f.Name, prev)
			}
			seen[f.Name] = p
		}
		out = append(out, fam)
	}
	return out, nil
}

// ParseFamily checks one family file: its name, its header and that the
// query uses @as_of (a family that ignores the as-of date cannot be
// point-in-time) and no other parameter.
func ParseFamily(path, src string) (Family, error) {
	bad := func(format string, args ...any) (Family, error) {
		return Family{}, churn.Invalid("load feature families", "features-dir", "%s: "+format, append([]any{path}, args...)...)
	}
	sx := newFamilySyntax()
	name := strings.TrimSuffix(filepath.Base(path), ".sql")
	if !sx.name.MatchString(name) {
		return bad("the family name %q (the file name) must be lower_snake_case", name)
	}
	fam := Family{Name: name, Path: path, SQL: src}
	missing := map[string]string{}
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if m := sx.feature.FindStringSubmatch(line); m != nil {
			if !sx.name.MatchString(m[1]) || m[1] == labelName {
				return bad("line %d: feature name %q must be lower_snake_case and not %q", i+1, m[1], labelName)
			}
			if _, dup := Lookup(fam.Features, m[1]); dup {
				return bad("line %d: feature %s is declared twice", i+1, m[1])
			}
			fam.Features = append(fam.Features, churn.Feature{Name: m[1], Unit: strings.TrimSpace(m[2]),
				Description: strings.TrimSpace(m[3]), Family: name})
		} else if m := sx.missing.FindStringSubmatch(line); m != nil {
			missing[m[1]] = m[2]
		} else if strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(line, "--")), "feature:") {
			return bad("line %d: want `-- feature: name (unit): description`", i+1)
		}
	}
	if len(fam.Features) == 0 {
		return bad("declares no feature; add a header line `-- feature: name (unit): description` per column")
	}
	for i := range fam.Features {
		// The join leaves NaN where the query has no row for a customer.
		fam.Features[i].Missing = "NaN when the family's query returns no row for the customer."
		if m, ok := missing[fam.Features[i].Name]; ok {
			fam.Features[i].Missing = m
		}
		delete(missing, fam.Features[i].Name)
	}
	for n := range missing {
		return bad("`-- missing: %s` names no declared feature", n)
	}
	code := sx.stringLit.ReplaceAllString(sx.blockComment.ReplaceAllString(sx.lineComment.ReplaceAllString(src, ""), ""), "''")
	usesAsOf := false
	for _, m := range sx.param.FindAllStringSubmatch(code, -1) {
		if m[1] != "as_of" {
			return bad("uses @%s: only @as_of is bound", m[1])
		}
		usesAsOf = true
	}
	if !usesAsOf {
		return bad("does not use @as_of: a family must read only rows dated before the as-of date, e.g. WHERE day < toDate(@as_of)")
	}
	for _, m := range sx.table.FindAllStringSubmatch(code, -1) {
		if !slices.Contains(fam.Tables, m[1]) {
			fam.Tables = append(fam.Tables, m[1])
		}
	}
	return fam, nil
}

// labelName is the result column QueryMatrix reads as the label, so no
// family feature may take it.
const labelName = "label"

// Catalog returns the registry followed by the families' features: every
// feature a snapshot computes with these families, in matrix column order.
func Catalog(fams []Family) []churn.Feature {
	fs := Registry()
	for _, f := range fams {
		fs = append(fs, f.Features...)
	}
	return fs
}

// familyOf returns the family that declares a feature.
func familyOf(fams []Family, feature string) (Family, bool) {
	for _, f := range fams {
		if _, ok := Lookup(f.Features, feature); ok {
			return f, true
		}
	}
	return Family{}, false
}

// FamilyValues runs a family's query as of asOf and checks its columns:
// customer_id, then the declared features in order, one row per customer.
// The rows come sorted by customer id.
func FamilyValues(ctx context.Context, st MatrixQuerier, fam Family, asOf time.Time) (*churn.Matrix, error) {
	m, err := st.QueryMatrix(ctx, fam.SQL, map[string]any{"as_of": Date(asOf).Format(time.DateOnly)}, nil)
	if err != nil {
		return nil, fmt.Errorf("feature family %s (%s): %w", fam.Name, fam.Path, err)
	}
	if m.Labels != nil {
		return nil, churn.Invalid("feature family "+fam.Name, "features-dir", "%s returns a column named label", fam.Path)
	}
	if want := Names(fam.Features); !slices.Equal(m.Features, want) {
		return nil, churn.Invalid("feature family "+fam.Name, "features-dir", "%s returns columns %v after customer_id; its header declares %v",
			fam.Path, m.Features, want)
	}
	order := make([]int, len(m.IDs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(m.IDs[a], m.IDs[b]) })
	sorted := &churn.Matrix{IDs: make([]string, len(order)), Features: m.Features, Cols: make([][]float32, len(m.Cols))}
	for j := range m.Cols {
		sorted.Cols[j] = make([]float32, len(order))
	}
	for k, i := range order {
		sorted.IDs[k] = m.IDs[i]
		if k > 0 && sorted.IDs[k] == sorted.IDs[k-1] {
			return nil, churn.Invalid("feature family "+fam.Name, "features-dir", "%s returns customer %s twice: want one row per customer", fam.Path, m.IDs[i])
		}
		for j := range m.Cols {
			sorted.Cols[j][k] = m.Cols[j][i]
		}
	}
	return sorted, nil
}

// joinFamily appends a family's columns to m (sorted by id): a customer the
// family has no row for gets NaN.
func joinFamily(m, fam *churn.Matrix) {
	k := 0
	cols := make([][]float32, len(fam.Features))
	for j := range cols {
		cols[j] = make([]float32, len(m.IDs))
	}
	for i, id := range m.IDs {
		for k < len(fam.IDs) && fam.IDs[k] < id {
			k++
		}
		hit := k < len(fam.IDs) && fam.IDs[k] == id
		for j := range cols {
			cols[j][i] = float32(math.NaN())
			if hit {
				cols[j][i] = fam.Cols[j][k]
			}
		}
	}
	m.Features = append(m.Features, fam.Features...)
	m.Cols = append(m.Cols, cols...)
}
