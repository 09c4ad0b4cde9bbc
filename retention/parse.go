package retention

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/telcoretain/churn"
)

// The file's shape. Pointers tell an omitted setting (which takes its
// default) from a zero one.
type policyFile struct {
	ControlShare *float64            `yaml:"control_share"`
	Budget       *float64            `yaml:"budget_per_cycle"`
	HorizonDays  *int                `yaml:"horizon_days"`
	LeaseMinutes *int                `yaml:"lease_minutes"`
	Targeting    *string             `yaml:"targeting"`
	ArchiveAfter *int                `yaml:"archive_after_days"`
	Contact      contactFile         `yaml:"contact"`
	Learning     learningFile        `yaml:"learning"`
	Actions      map[string]specFile `yaml:"actions"`
	Rules        []ruleFile          `yaml:"rules"`
}

type contactFile struct {
	Limit        *int `yaml:"limit"`
	WindowDays   *int `yaml:"window_days"`
	CooldownDays *int `yaml:"cooldown_days"`
}

type learningFile struct {
	PriorStrength    *float64 `yaml:"prior_strength"`
	ExplorationShare *float64 `yaml:"exploration_share"`
}

type specFile struct {
	Channel    string   `yaml:"channel"`
	Cost       *float64 `yaml:"cost"`
	SaveRate   *float64 `yaml:"save_rate"`
	AcceptRate *float64 `yaml:"accept_rate"`
}

type ruleFile struct {
	Name     string   `yaml:"name"`
	Tiers    []string `yaml:"tiers"`
	Bands    []string `yaml:"bands"`
	Reasons  []string `yaml:"reasons"`
	Action   string   `yaml:"action"`
	Offer    string   `yaml:"offer"`
	Channel  string   `yaml:"channel"`
	Cost     *float64 `yaml:"cost"`
	SaveRate *float64 `yaml:"save_rate"`
	Priority *int     `yaml:"priority"`
}

// Parse validates a policy document. file names it in errors. Every problem
// found is reported, each with its line, as a KindInvalid error whose
// Problems says where.
func Parse(file string, b []byte) (*Policy, error) {
	ast, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, invalidPolicy(file, []Problem{yamlProblem(err)})
	}
	var raw policyFile
	if err := yaml.UnmarshalWithOptions(b, &raw, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return nil, invalidPolicy(file, []Problem{yamlProblem(err)})
	}
	c := &checker{file: ast}
	p := c.build(&raw)
	if len(c.probs) > 0 {
		return nil, invalidPolicy(file, c.probs)
	}
	p.Source, p.Digest = file, digest(b)
	return p, nil
}

func yamlProblem(err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		return Problem{Line: ye.GetToken().Position.Line, Msg: ye.GetMessage()}
	}
	return Problem{Msg: err.Error()}
}

// checker collects problems with the line of the node they concern.
type checker struct {
	file  *ast.File
	probs []Problem
}

// add records a problem at path, a field path like rules[2].action.
func (c *checker) add(path, format string, args ...any) {
	c.probs = append(c.probs, Problem{Line: c.line(path), Field: path, Msg: fmt.Sprintf(format, args...)})
}

// line finds the line of path, or of its nearest parent that exists (a
// missing field is reported where its section starts).
func (c *checker) line(path string) int {
	for p := path; p != ""; {
		yp, err := yaml.PathString("$." + p)
		if err == nil {
			if n, err := yp.FilterFile(c.file); err == nil && n != nil && n.GetToken() != nil {
				return n.GetToken().Position.Line
			}
		}
		cut := max(strings.LastIndexByte(p, '.'), strings.LastIndexByte(p, '['))
		if cut <= 0 {
			break
		}
		p = p[:cut]
	}
	return 0
}

func (c *checker) build(raw *policyFile) *Policy {
	p := &Policy{
		ControlShare:  orDefault(raw.ControlShare, DefaultControlShare),
		HorizonDays:   orDefault(raw.HorizonDays, DefaultHorizonDays),
		Lease:         time.Duration(orDefault(raw.LeaseMinutes, int(DefaultLease/time.Minute))) * time.Minute,
		ContactLimit:  orDefault(raw.Contact.Limit, DefaultContactLimit),
		ContactWindow: orDefault(raw.Contact.WindowDays, DefaultContactWindow),
		CooldownDays:  orDefault(raw.Contact.CooldownDays, DefaultCooldownDays),
		Actions:       map[churn.ActionKind]ActionSpec{},

		PriorStrength:    orDefault(raw.Learning.PriorStrength, DefaultPriorStrength),
		ExplorationShare: orDefault(raw.Learning.ExplorationShare, DefaultExplorationShare),
		Targeting:        Targeting(orDefault(raw.Targeting, string(TargetRisk))),
		ArchiveAfterDays: orDefault(raw.ArchiveAfter, DefaultArchiveAfterDays),
	}
	if p.Targeting != TargetRisk && p.Targeting != TargetUplift {
		c.add("targeting", "%q: want %s (rank by churn probability x value) or %s (rank by the uplift model's prevented churn x value)", p.Targeting, TargetRisk, TargetUplift)
	}
	if !(p.PriorStrength > 0 && p.PriorStrength <= 1e6) {
		c.add("learning.prior_strength", "%g: want a positive number of pseudo-outcomes (20: the policy's rates weigh as much as 20 outcomes)", p.PriorStrength)
	}
	if !(p.ExplorationShare >= 0 && p.ExplorationShare <= 0.5) {
		c.add("learning.exploration_share", "%g: want a share of the budget from 0 to 0.5", p.ExplorationShare)
	}
	if !(p.ControlShare >= 0 && p.ControlShare <= 0.5) {
		c.add("control_share", "%g: want a share from 0 to 0.5 (0.1 holds out 10%%)", p.ControlShare)
	}
	if raw.Budget == nil {
		c.add("budget_per_cycle", "is required: the most a cycle may spend on actions")
	} else if p.Budget = *raw.Budget; !(p.Budget > 0) || math.IsInf(p.Budget, 0) {
		c.add("budget_per_cycle", "%g: want a positive amount", p.Budget)
	}
	c.intRange("horizon_days", p.HorizonDays, 1, 365)
	c.intRange("lease_minutes", int(p.Lease/time.Minute), 1, 24*60)
	c.intRange("contact.limit", p.ContactLimit, 1, 100)
	c.intRange("contact.window_days", p.ContactWindow, 1, MaxContactDays)
	c.intRange("contact.cooldown_days", p.CooldownDays, 0, MaxContactDays)
	c.intRange("archive_after_days", p.ArchiveAfterDays, 0, MaxContactDays)

	kinds := make([]string, 0, len(raw.Actions))
	for k := range raw.Actions {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds) // problems in a stable order
	for _, k := range kinds {
		f := raw.Actions[k]
		path := "actions." + k
		if kind := churn.ActionKind(k); !slices.Contains(churn.ActionKinds, kind) || kind == churn.ActionNone {
			c.add(path, "unknown action kind; want one of %s", churn.Names(churn.ActionKinds[:len(churn.ActionKinds)-1]))
			continue
		}
		s := ActionSpec{Channel: f.Channel}
		c.channel(path+".channel", s.Channel, true)
		if f.Cost == nil {
			c.add(path+".cost", "is required")
		} else {
			s.Cost = c.cost(path+".cost", *f.Cost)
		}
		if f.SaveRate == nil {
			c.add(path+".save_rate", "is required: the share of would-be churners this action keeps")
		} else {
			s.SaveRate = c.share(path+".save_rate", *f.SaveRate)
		}
		if f.AcceptRate != nil {
			s.AcceptRate = c.share(path+".accept_rate", *f.AcceptRate)
		}
		p.Actions[churn.ActionKind(k)] = s
	}

	if len(raw.Rules) == 0 {
		c.add("rules", "is required: at least one rule")
	}
	names := map[string]int{}
	for i, rf := range raw.Rules {
		p.Rules = append(p.Rules, c.rule(p, i, rf, names))
	}
	return p
}

func (c *checker) rule(p *Policy, i int, rf ruleFile, names map[string]int) Rule {
	path := fmt.Sprintf("rules[%d]", i)
	r := Rule{Name: rf.Name, Kind: churn.ActionKind(rf.Action), Offer: rf.Offer, Channel: rf.Channel,
		Priority: orDefault(rf.Priority, DefaultPriority), Line: c.line(path)}
	switch prev, dup := names[rf.Name]; {
	case strings.TrimSpace(rf.Name) == "":
		c.add(path+".name", "is required: name the rule so actions can say why they were chosen")
	case dup:
		c.add(path+".name", "%q is also the name of rules[%d]", rf.Name, prev)
	default:
		names[rf.Name] = i
	}
	for j, t := range rf.Tiers {
		if churn.ValueTier(t).Rank() < 0 {
			c.add(fmt.Sprintf("%s.tiers[%d]", path, j), "%q is not a value tier; want %s", t, churn.Names(churn.ValueTiers[:]))
		}
		r.Tiers = append(r.Tiers, churn.ValueTier(t))
	}
	for j, b := range rf.Bands {
		if churn.RiskBand(b).Rank() < 0 {
			c.add(fmt.Sprintf("%s.bands[%d]", path, j), "%q is not a risk band; want %s", b, churn.Names(churn.RiskBands[:]))
		}
		r.Bands = append(r.Bands, churn.RiskBand(b))
	}
	for j, x := range rf.Reasons {
		if !slices.Contains(Reasons, x) {
			c.add(fmt.Sprintf("%s.reasons[%d]", path, j), "%q is not a churn reason; want one of %s", x, strings.Join(Reasons, ", "))
		}
	}
	r.Reasons = rf.Reasons
	c.intRange(path+".priority", r.Priority, 1, 99)
	switch spec, ok := p.Actions[r.Kind]; {
	case rf.Action == "":
		c.add(path+".action", "is required; want one of %s", churn.Names(churn.ActionKinds))
	case !slices.Contains(churn.ActionKinds, r.Kind):
		c.add(path+".action", "%q is not an action; want one of %s", rf.Action, churn.Names(churn.ActionKinds))
	case r.Kind == churn.ActionNone:
		if rf.Offer != "" || rf.Channel != "" || rf.Cost != nil || rf.SaveRate != nil {
			c.add(path+".action", "none takes no offer, channel, cost or save_rate")
		}
	case !ok:
		c.add(path+".action", "%q has no entry under actions: give its channel, cost and save_rate there", rf.Action)
	default:
		c.channel(path+".channel", r.Channel, false)
		if r.Channel == "" {
			r.Channel = spec.Channel
		}
		r.Cost, r.SaveRate = spec.Cost, spec.SaveRate
		if rf.Cost != nil {
			r.Cost = c.cost(path+".cost", *rf.Cost)
		}
		if rf.SaveRate != nil {
			r.SaveRate = c.share(path+".save_rate", *rf.SaveRate)
		}
	}
	return r
}

func (c *checker) intRange(path string, v, lo, hi int) {
	if v < lo || v > hi {
		c.add(path, "%d is out of range: want %d to %d", v, lo, hi)
	}
}

func (c *checker) cost(path string, v float64) float64 {
	if !(v >= 0) || math.IsInf(v, 0) {
		c.add(path, "%g: want an amount of 0 or more", v)
	}
	return v
}

func (c *checker) share(path string, v float64) float64 {
	if !(v >= 0 && v <= 1) {
		c.add(path, "%g: want a share from 0 to 1", v)
	}
	return v
}

func (c *checker) channel(path, v string, required bool) {
	if v == "" && !required {
		return
	}
	if !slices.Contains(Channels, v) {
		c.add(path, "%q is not a channel; want one of %s", v, strings.Join(Channels, ", "))
	}
}

func orDefault[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
