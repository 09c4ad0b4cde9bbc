package retention

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/telcoretain/churn"
)

// Channels an action can go out on.
var Channels = []string{"phone", "email", "sms", "push", "letter"}

// Defaults of the optional policy settings.
const (
	DefaultControlShare  = 0.10
	DefaultHorizonDays   = 30
	DefaultLease         = 30 * time.Minute
	DefaultContactLimit  = 3
	DefaultContactWindow = 90
	DefaultCooldownDays  = 14
	// MaxContactDays bounds the contact window and the cooldown: the
	// queue forgets archived contacts older than that.
	MaxContactDays = 3650
	// DefaultArchiveAfterDays is how many days after its date a labelled
	// cycle's closed actions stay in the queue's memory.
	DefaultArchiveAfterDays = 90
	DefaultPriority         = 5
	// DefaultPriorStrength is how many outcomes the policy's rates weigh
	// as against the learned ones.
	DefaultPriorStrength    = 20
	DefaultExplorationShare = 0.05
	DefaultAcceptRate       = 0.5
)

// Targeting is how a plan ranks the customers a rule gives an action.
type Targeting string

// Targetings: risk is the default; uplift needs an uplift champion in the
// model registry (`churn uplift train`), and without one a plan falls back
// to risk and says why.
const (
	// TargetRisk ranks by P(churn) x lifetime value x save rate - cost.
	TargetRisk Targeting = "risk"
	// TargetUplift ranks by the uplift model's churn prevented x lifetime
	// value - cost: the expected incremental value of acting.
	TargetUplift Targeting = "uplift"
)

// Policy says whom to contact and how. Rules are tried in file order and the
// first that matches a customer decides, so specific rules come first.
type Policy struct {
	ControlShare  float64 // share of eligible customers held out each cycle
	Budget        float64 // spend per cycle, in the currency of lifetime values
	HorizonDays   int     // days after the cycle in which churn counts as not saved
	Lease         time.Duration
	ContactLimit  int // contacts per customer within ContactWindow days
	ContactWindow int
	CooldownDays  int // days between two contacts of one customer
	Actions       map[churn.ActionKind]ActionSpec
	Rules         []Rule
	// PriorStrength is the weight, in outcomes, of the policy's rates as
	// priors of the learned ones (retention.Learn).
	PriorStrength float64
	// ExplorationShare is the share of the budget spent on actions chosen
	// by Thompson sampling rather than by their expected value.
	ExplorationShare float64
	// Targeting says how candidates are ranked; TargetRisk by default.
	Targeting Targeting
	// ArchiveAfterDays: the outcomes job archives a cycle once its
	// outcomes are labelled and the data reaches this many days past its
	// date; its closed actions then leave the queue's memory (they stay
	// in the action log, their results in the outcomes). 0: never.
	ArchiveAfterDays int

	Source string // file the policy came from, "" when built in code
	Digest string // sha256 of the file's bytes, to tell versions apart
}

// ActionSpec is what an action kind costs and how often it saves a churner.
type ActionSpec struct {
	Channel  string
	Cost     float64
	SaveRate float64 // expected share of would-be churners the action keeps
	// AcceptRate is the expected share of worked actions the customer
	// accepts; 0 when the file gives none (DefaultAcceptRate then).
	AcceptRate float64
}

// Rule matches customers by value tier, risk band and top churn reason
// (empty lists match everything) and says what to do with them.
type Rule struct {
	Name     string
	Tiers    []churn.ValueTier
	Bands    []churn.RiskBand
	Reasons  []string
	Kind     churn.ActionKind
	Offer    string
	Channel  string
	Cost     float64
	SaveRate float64
	Priority int // 1 is worked first
	Line     int // where the rule starts in its file, for people
}

// Matches reports whether the rule applies to a customer.
func (r *Rule) Matches(tier churn.ValueTier, band churn.RiskBand, reason string) bool {
	return (len(r.Tiers) == 0 || slices.Contains(r.Tiers, tier)) &&
		(len(r.Bands) == 0 || slices.Contains(r.Bands, band)) &&
		(len(r.Reasons) == 0 || slices.Contains(r.Reasons, reason))
}

// Match returns the first rule that applies, nil when none does.
func (p *Policy) Match(tier churn.ValueTier, band churn.RiskBand, reason string) *Rule {
	for i := range p.Rules {
		if p.Rules[i].Matches(tier, band, reason) {
			return &p.Rules[i]
		}
	}
	return nil
}

// Actionable returns the scores of the customers a rule of the policy acts
// on (a rule matches their tier, band and top reason, and its action is not
// none), in order: the only customers a plan may contact, so the only ones
// whose uplift it reads.
func (p *Policy) Actionable(scores []churn.Score) []churn.Score {
	var out []churn.Score
	for _, s := range scores {
		if r := p.Match(s.Tier, s.Band, TopReason(s)); r != nil && r.Kind != churn.ActionNone {
			out = append(out, s)
		}
	}
	return out
}

// Spec returns the catalogue entry of a kind, with ok false when the policy
// has none.
func (p *Policy) Spec(kind churn.ActionKind) (ActionSpec, bool) {
	s, ok := p.Actions[kind]
	return s, ok
}

// LoadFile reads and validates a policy file.
func LoadFile(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, churn.Invalid("read policy", path, "%v", err)
	}
	return Parse(path, b)
}

// Problem is one mistake in a policy file.
type Problem struct {
	Line  int    // 0 when the mistake has no place (a missing section)
	Field string // path in the document, e.g. rules[2].action
	Msg   string
}

func (p Problem) String() string {
	s := ""
	if p.Line > 0 {
		s = fmt.Sprintf("line %d: ", p.Line)
	}
	if p.Field != "" {
		s += p.Field + ": "
	}
	return s + p.Msg
}

// ValidationError lists every problem found in a policy file.
type ValidationError struct {
	File     string
	Problems []Problem
}

// Error formats the problems as FILE:LINE: field: message, one a line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = e.File + ":"
		if p.Line > 0 {
			lines[i] += fmt.Sprintf("%d:", p.Line)
		}
		lines[i] += " "
		if p.Field != "" {
			lines[i] += p.Field + ": "
		}
		lines[i] += p.Msg
	}
	return strings.Join(lines, "\n")
}

// Problems returns the problems of a policy error, nil for other errors.
func Problems(err error) []Problem {
	for err != nil {
		if ve, ok := err.(*ValidationError); ok {
			return ve.Problems
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return nil
		}
		err = u.Unwrap()
	}
	return nil
}

func invalidPolicy(file string, probs []Problem) error {
	ve := &ValidationError{File: file, Problems: probs}
	return &churn.Error{Op: "check policy", Kind: churn.KindInvalid, Field: probs[0].Field,
		Msg: fmt.Sprintf("%d problem(s)", len(probs)), Err: ve}
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
