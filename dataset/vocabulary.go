package dataset

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/telcoretain/churn"
)

// DefaultVocabularyHint is where an unknown value should go when no
// vocabulary file is configured: docs/vocabulary.yaml documents the format
// and holds the defaults to copy.
const DefaultVocabularyHint = "a vocabulary file (copy docs/vocabulary.yaml, point --vocabulary or CHURN_VOCABULARY at it)"

// LoadVocabulary reads an operator's vocabulary file. An empty path is the
// default vocabulary.
func LoadVocabulary(path string) (churn.Vocabulary, error) {
	if path == "" {
		return churn.Vocabulary{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return churn.Vocabulary{}, &churn.Error{Op: "load vocabulary", Kind: churn.KindInvalid, Field: "vocabulary", Msg: "cannot read the file", Err: err}
	}
	return ParseVocabulary(path, b)
}

// ParseVocabulary validates a vocabulary document: under each table and
// enumerated column, every category lists the operator's values that mean
// it. file names the document in errors and becomes the vocabulary's Source.
// Columns it leaves out keep their default values.
func ParseVocabulary(file string, b []byte) (churn.Vocabulary, error) {
	var raw map[string]map[string]map[string][]string
	if err := yaml.UnmarshalWithOptions(b, &raw, yaml.Strict()); err != nil {
		return churn.Vocabulary{}, churn.Invalid("load vocabulary", "vocabulary", "%s: %v", file, err)
	}
	v := churn.Vocabulary{Source: file, Terms: map[string][]churn.Term{}}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{file}, args...)...))
	}
	cols := churn.EnumColumns()
	for table, byCol := range raw {
		for col, byCat := range byCol {
			key := table + "." + col
			i := slices.IndexFunc(cols, func(c churn.EnumColumn) bool { return c.Key() == key })
			if i < 0 {
				bad("%s is not an enumerated contract column; want one of %s", key, enumKeys(cols))
				continue
			}
			terms, problems := columnTerms(key, cols[i].Categories, byCat)
			for _, p := range problems {
				bad("%s", p)
			}
			v.Terms[key] = terms
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return churn.Vocabulary{}, &churn.Error{Op: "load vocabulary", Kind: churn.KindInvalid, Field: "vocabulary", Err: errors.Join(errs...)}
	}
	return v, nil
}

// columnTerms orders a column's terms by category (the contract's order),
// then as listed, and says what is wrong with them.
func columnTerms(key string, categories []string, byCat map[string][]string) ([]churn.Term, []string) {
	var problems []string
	for cat := range byCat {
		if !slices.Contains(categories, cat) {
			problems = append(problems, fmt.Sprintf("%s: category %q is not one of %s", key, cat, strings.Join(categories, ", ")))
		}
	}
	var terms []churn.Term
	seen := map[string]string{}
	for _, cat := range categories {
		for _, val := range byCat[cat] {
			switch prev, dup := seen[val]; {
			case strings.TrimSpace(val) == "":
				problems = append(problems, fmt.Sprintf("%s.%s: a value is empty", key, cat))
			case dup:
				problems = append(problems, fmt.Sprintf("%s: %q is listed under both %s and %s", key, val, prev, cat))
			default:
				seen[val] = cat
				terms = append(terms, churn.Term{Value: val, Category: cat})
			}
		}
	}
	if len(terms) == 0 && len(problems) == 0 {
		problems = append(problems, fmt.Sprintf("%s: no values: list at least one under a category, or leave the column out for the defaults", key))
	}
	return terms, problems
}

func enumKeys(cols []churn.EnumColumn) string {
	keys := make([]string, len(cols))
	for i, c := range cols {
		keys[i] = c.Key()
	}
	return strings.Join(keys, ", ")
}

// WithVocabulary returns the table with its enumerated columns accepting
// the vocabulary's values, and errors about other values pointing at the
// vocabulary's file.
func (t Table) WithVocabulary(v churn.Vocabulary) Table {
	hint := v.Source
	if hint == "" {
		hint = DefaultVocabularyHint
	}
	cols := slices.Clone(t.Columns)
	for i := range cols {
		if vals := v.Values(t.Name + "." + cols[i].Name); vals != nil {
			cols[i].Enum, cols[i].EnumHint = vals, hint
		}
	}
	t.Columns = cols
	return t
}
