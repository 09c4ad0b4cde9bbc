package dataset

import (
	"fmt"
	"sort"
	"strings"
)

// DefaultMaxErrors is how many problems ReadCSV reports in full when
// ReadOptions.MaxErrors is zero; the rest are only counted.
const DefaultMaxErrors = 50

// Problem is one thing wrong with an input file: where it is and what it is.
type Problem struct {
	Line   int    // physical line in the file; the header is line 1
	Column string // the column at fault; empty when the problem is the row's shape
	Msg    string // what is wrong, for people
}

// Problems is the error ReadCSV returns for an invalid file: the first
// problems in line order, at most the limit asked for, and how many there are
// in all.
type Problems struct {
	File  string
	List  []Problem
	Total int
}

// Lines formats the problems as `FILE:LINE: column: problem`, followed by
// "... and N more errors" when the limit cut the list short.
func (p *Problems) Lines() []string {
	out := make([]string, 0, len(p.List)+1)
	for _, pr := range p.List {
		if pr.Column == "" {
			out = append(out, fmt.Sprintf("%s:%d: %s", p.File, pr.Line, pr.Msg))
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: %s: %s", p.File, pr.Line, pr.Column, pr.Msg))
	}
	if more := p.Total - len(p.List); more > 0 {
		noun := "errors"
		if more == 1 {
			noun = "error"
		}
		out = append(out, fmt.Sprintf("... and %d more %s", more, noun))
	}
	return out
}

// Error returns the problem lines, one per line.
func (p *Problems) Error() string { return strings.Join(p.Lines(), "\n") }

// collector keeps the first limit problems it is given and counts all of them.
// Problems must arrive in line order within one collector.
type collector struct {
	limit int
	list  []Problem
	total int
}

func (c *collector) add(line int, column, format string, args ...any) {
	c.total++
	if len(c.list) < c.limit {
		c.list = append(c.list, Problem{Line: line, Column: column, Msg: fmt.Sprintf(format, args...)})
	}
}

// merge combines collectors whose problems are each in line order. The first
// limit problems of the union are among the first limit of each part, so
// nothing that should be shown was dropped.
func merge(file string, limit int, parts ...*collector) *Problems {
	p := &Problems{File: file}
	for _, c := range parts {
		p.List = append(p.List, c.list...)
		p.Total += c.total
	}
	sort.SliceStable(p.List, func(i, j int) bool { return p.List[i].Line < p.List[j].Line })
	if len(p.List) > limit {
		p.List = p.List[:limit]
	}
	return p
}
