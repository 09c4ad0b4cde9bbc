package main

// The settings binder: each setting is defined once (flag, environment
// variable, default, validation, help, secret) and bound to cobra's pflag
// flag sets from that one definition.
//
// Why a small table-driven binder rather than a library: viper reads
// environment values through spf13/cast, which turns "x" into 0 and "maybe"
// into false without an error (the very bug this replaces), keeps global state
// and brings a large dependency tree; peterbourgon/ff parses the command line
// itself, so it fights cobra (which already parses our flags), accepts only
// strconv.ParseBool's booleans (not yes/no) and cannot say whether a value came
// from a flag or the environment, which `churn config` must show. What we need
// on top of pflag is about 200 lines: typed parsers with range checks, a
// precedence rule and errors that name the flag or variable.

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/telcoretain/churn/jobs"
)

// setting is one configuration value. Its flag takes precedence over its
// environment variable, which takes precedence over its default.
type setting struct {
	Flag    string // flag name without dashes
	Env     string // environment variable; empty for a flag-only setting
	Default string // in the text form a flag or variable takes
	Help    string
	Secret  bool   // masked wherever it is printed
	Scope   string // the commands that take it, as `churn config` lists them
	// Unset says what an empty value means (the built-in schedules) when
	// that is not simply nothing.
	Unset string
	Kind  kind
}

// kind parses and validates the text of a setting and stores the value.
type kind struct {
	Name string // the value's type shown in --help: duration, float, addr, ...
	// Set parses text and stores the value; its error says what is wrong
	// with text, and the caller prefixes the flag or variable.
	Set func(text string) error
	// List kinds take several items: the flag may be repeated, and the
	// environment variable separates items with ';' (cron expressions
	// contain commas and spaces).
	List bool
}

// Where a value came from, as `churn config` shows it.
const (
	fromFlag    = "flag"
	fromEnv     = "env"
	fromDefault = "default"
)

// resolved is a setting with the text it took and where that came from.
type resolved struct {
	*setting
	Text    string
	Source  string // fromFlag, fromEnv or fromDefault
	Invalid bool   // Text did not parse; the setting kept its previous value
}

// name is how errors and `churn config` refer to where the value came from.
func (r resolved) name() string {
	switch r.Source {
	case fromFlag:
		return "--" + r.Flag
	case fromEnv:
		return r.Env
	}
	return "default of --" + r.Flag
}

// resolve sets s from its flag when the command line gave it, else from its
// environment variable when set and not empty (an empty line in an env file
// means "not configured"), else from its default. flag may be nil when the
// command has no such flag.
func (s *setting) resolve(flag *pflag.Flag, lookupEnv func(string) (string, bool)) (resolved, error) {
	r := resolved{setting: s, Text: s.Default, Source: fromDefault}
	if flag != nil && flag.Changed {
		r.Text, r.Source = flag.Value.String(), fromFlag
	} else if v, ok := lookupEnv(s.Env); ok && s.Env != "" && v != "" {
		r.Text, r.Source = v, fromEnv
	}
	if err := s.Kind.Set(r.Text); err != nil {
		r.Invalid = true
		return r, usageError{fmt.Errorf("%s: %w", r.name(), err)}
	}
	return r, nil
}

// flagValue is the pflag.Value of a setting's flag. It only keeps the text:
// resolve parses it, so that a bad flag and a bad variable are reported the
// same way and the flag's precedence is decided in one place.
type flagValue struct {
	s    *setting
	text string
	set  bool // a list flag's first Set replaces the default, later ones add
}

func (v *flagValue) String() string { return v.text }
func (v *flagValue) Type() string   { return v.s.Kind.Name }

// Set keeps the text; for a repeated list flag it adds the items.
func (v *flagValue) Set(text string) error {
	if v.s.Kind.List && v.set {
		v.text += ";" + text
	} else {
		v.text = text
	}
	v.set = true
	return nil
}

// bind adds the flag of s to f. Its help names the environment variable.
func (s *setting) bind(f *pflag.FlagSet) {
	help := s.Help
	if s.Default == "" && s.Unset != "" {
		help = fmt.Sprintf("%s (default: %s)", help, s.Unset) // pflag shows no empty default
	}
	if s.Env != "" {
		help = fmt.Sprintf("%s (env %s)", help, s.Env)
	}
	v := &flagValue{s: s, text: s.Default}
	f.Var(v, s.Flag, help)
	if s.Secret {
		f.Lookup(s.Flag).DefValue = mask(s.Default)
	}
	if s.Kind.Name == "bool" {
		f.Lookup(s.Flag).NoOptDefVal = "true" // --scheduler means --scheduler=true
	}
}

// settingOf returns the setting a flag was bound from, or nil for a flag
// that is not a setting (a command's own argument such as --limit).
func settingOf(f *pflag.Flag) *setting {
	if v, ok := f.Value.(*flagValue); ok {
		return v.s
	}
	return nil
}

// resolveFlags resolves every setting bound to fs, the flags of the command
// being run, and reports every bad value at once.
func resolveFlags(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if s := settingOf(f); s != nil {
			if _, err := s.resolve(f, lookupEnv); err != nil {
				errs = append(errs, err)
			}
		}
	})
	if len(errs) == 0 {
		return nil
	}
	return usageError{errors.Join(errs...)}
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "********"
}

// The kinds. Each message says what the text is not, so that with the name
// in front it reads `CHURN_HTTP_ADDR: "x" is not host:port`.

func stringKind(dst *string) kind {
	return kind{Name: "string", Set: func(s string) error { *dst = s; return nil }}
}

// boolKind accepts true/false, 1/0 and yes/no (any case), the spellings
// operators use in env files; anything else is an error, never false.
func boolKind(dst *bool) kind {
	return kind{Name: "bool", Set: func(s string) error {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes":
			*dst = true
		case "false", "0", "no":
			*dst = false
		default:
			return fmt.Errorf("%q is not a boolean (true/false, 1/0, yes/no)", s)
		}
		return nil
	}}
}

// intKind accepts whole numbers from lo to hi.
func intKind(dst *int, lo, hi int) kind {
	return kind{Name: "int", Set: func(s string) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		if err := inRange(n, lo, hi); err != nil {
			return err
		}
		*dst = n
		return nil
	}}
}

// keepMonthsKind accepts 0 (keep every month) or jobs.MinKeepMonths and
// more.
func keepMonthsKind(dst *int) kind {
	k := intKind(dst, 0, 1200)
	set := k.Set
	k.Set = func(s string) error {
		if err := set(s); err != nil {
			return err
		}
		if *dst > 0 && *dst < jobs.MinKeepMonths {
			return fmt.Errorf("%d months would drop the runs the drift check labels (a horizon and the prepaid silence back); want 0 (keep all) or at least %d", *dst, jobs.MinKeepMonths)
		}
		return nil
	}
	return k
}

// floatKind accepts numbers from lo to hi (math.MaxFloat64: no upper bound).
func floatKind(dst *float64, lo, hi float64) kind {
	return kind{Name: "float", Set: func(s string) error {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || x != x { // x != x: NaN compares false with any bound
			return fmt.Errorf("%q is not a number", s)
		}
		if err := inRange(x, lo, hi); err != nil {
			return err
		}
		*dst = x
		return nil
	}}
}

func inRange[T int | float64](x, lo, hi T) error {
	if x < lo {
		return fmt.Errorf("%v is below the minimum %v", x, lo)
	}
	if x > hi {
		return fmt.Errorf("%v is above the maximum %v", x, hi)
	}
	return nil
}

// durationKind accepts Go durations (90s, 15m, 2h) of at least min.
func durationKind(dst *time.Duration, min time.Duration) kind {
	return kind{Name: "duration", Set: func(s string) error {
		d, err := parseDuration(s)
		if err != nil {
			return err
		}
		if d < min {
			return fmt.Errorf("%s is shorter than %s", d, min)
		}
		*dst = d
		return nil
	}}
}

// formatDuration writes d as an operator would: 4h, 90m, 30s (not 4h0m0s).
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 30s, 15m or 2h", s)
	}
	return d, nil
}

// addrKind accepts host:port with a numeric port; the host may be empty
// (all interfaces). optional allows the empty string (feature off).
func addrKind(dst *string, optional bool) kind {
	return kind{Name: "addr", Set: func(s string) error {
		if s == "" && optional {
			*dst = ""
			return nil
		}
		_, port, err := net.SplitHostPort(s)
		if err != nil {
			return fmt.Errorf("%q is not host:port, e.g. 127.0.0.1:8080", s)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("%q is not host:port: port %q is not a number 0..65535", s, port)
		}
		*dst = s
		return nil
	}}
}

// enumKind accepts one of values, in any case, and stores it as listed.
func enumKind(dst *string, values ...string) kind {
	return kind{Name: "string", Set: func(s string) error {
		for _, v := range values {
			if strings.EqualFold(strings.TrimSpace(s), v) {
				*dst = v
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", s, strings.Join(values, ", "))
	}}
}

// zoneKind accepts an IANA time zone name.
func zoneKind(dst *string) kind {
	return kind{Name: "zone", Set: func(s string) error {
		if _, err := time.LoadLocation(s); err != nil || s == "" {
			return fmt.Errorf("%q is not a time zone: want an IANA name such as Europe/Berlin", s)
		}
		*dst = s
		return nil
	}}
}

// pairsKind accepts ';'-separated NAME=VALUE items whose VALUE passes check
// (nil: any). Whether NAME exists is for the consumer to say: only it knows
// the names (the jobs registered in this process).
// name is the form shown in --help, e.g. NAME=SPEC.
func pairsKind(dst *[]string, name string, check func(v string) error) kind {
	return kind{Name: name, List: true, Set: func(s string) error {
		var items []string
		for _, it := range strings.Split(s, ";") {
			if it = strings.TrimSpace(it); it == "" {
				continue
			}
			name, v, ok := strings.Cut(it, "=")
			if name, v = strings.TrimSpace(name), strings.TrimSpace(v); !ok || name == "" || v == "" {
				return fmt.Errorf("%q is not NAME=VALUE", it)
			}
			if check != nil {
				if err := check(v); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
			items = append(items, name+"="+v)
		}
		*dst = items
		return nil
	}}
}

// originsKind accepts a comma-separated list of web origins,
// scheme://host[:port] with the scheme http or https and nothing after the
// host, or "*" for any.
func originsKind(dst *[]string) kind {
	return kind{Name: "origins", Set: func(s string) error {
		var out []string
		for _, o := range strings.Split(s, ",") {
			if o = strings.TrimSpace(o); o == "" {
				continue
			}
			if o != "*" {
				u, err := url.Parse(o)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
					u.RawQuery != "" || u.Fragment != "" || u.User != nil {
					return fmt.Errorf("%q is not an origin: want scheme://host[:port], e.g. https://dash.example.com, or *", o)
				}
				o = u.Scheme + "://" + u.Host
			}
			out = append(out, o)
		}
		*dst = out
		return nil
	}}
}
