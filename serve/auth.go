package serve

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
)

// Role is what an API key may do. Each role implies the ones below it.
type Role uint8

// Roles, weakest first.
const (
	RoleNone   Role = iota
	RoleViewer      // read scores, summaries and models
	RoleAgent       // work the action queue
	RoleAdmin       // change models, jobs and policies
)

var roleNames = [...]string{RoleNone: "none", RoleViewer: "viewer", RoleAgent: "agent", RoleAdmin: "admin"}

// String returns the role's name as written in key lists.
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", r)
}

// minKeyLen keeps guessable keys out of configuration.
const minKeyLen = 16

// Keys is the set of API keys the server accepts. Only hashes are kept, so
// that comparisons take the same time whatever the key's length.
type Keys struct {
	entries []keyEntry
}

type keyEntry struct {
	hash [sha256.Size]byte
	role Role
	name string // of a role:name:key entry; "" for role:key
}

// validKeyName is what may name a key's holder: it is recorded as the
// agent of their claims and in logs.
var validKeyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Len is the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.entries)
}

// ParseKeys reads a comma-separated list of role:key or role:name:key
// entries, as in CHURN_API_KEYS. A name (agent:dana:KEY) is the identity
// of the key's holder: an agent's claims and completions are recorded under
// it. source names where the list came from, for errors.
func ParseKeys(list, source string) (*Keys, error) {
	k := &Keys{}
	for i, item := range strings.Split(list, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		if err := k.add(item); err != nil {
			return nil, churn.Invalid("read API keys", source, "entry %d: %v", i+1, err)
		}
	}
	return k, nil
}

// ReadKeysFile reads role:key or role:name:key lines from a file; blank lines and lines that
// start with # are ignored.
func ReadKeysFile(path string) (*Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, churn.Invalid("read API keys", path, "%v", err)
	}
	defer f.Close()
	k := &Keys{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if err := k.add(text); err != nil {
			return nil, churn.Invalid("read API keys", path, "line %d: %v", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, churn.Invalid("read API keys", path, "%v", err)
	}
	return k, nil
}

// Merge returns the keys of both sets.
func (k *Keys) Merge(o *Keys) *Keys {
	out := &Keys{}
	for _, s := range []*Keys{k, o} {
		if s != nil {
			out.entries = append(out.entries, s.entries...)
		}
	}
	return out
}

func (k *Keys) add(item string) error {
	roleName, key, ok := strings.Cut(strings.TrimSpace(item), ":")
	if !ok {
		return fmt.Errorf("want role:key or role:name:key, e.g. viewer:<random key> or agent:dana:<random key>")
	}
	name := ""
	if n, k, named := strings.Cut(key, ":"); named {
		name, key = strings.TrimSpace(n), k
		if !validKeyName.MatchString(name) {
			return fmt.Errorf("name %q: want 1 to 64 letters, digits or . _ @ - (role:name:key)", name)
		}
	}
	role := RoleNone
	for r, n := range roleNames {
		if r != int(RoleNone) && n == strings.TrimSpace(roleName) {
			role = Role(r)
		}
	}
	if role == RoleNone {
		return fmt.Errorf("role %q: want viewer, agent or admin", roleName)
	}
	key = strings.TrimSpace(key)
	if len(key) < minKeyLen {
		return fmt.Errorf("%s key is %d characters; use at least %d (e.g. `openssl rand -hex 24`)", role, len(key), minKeyLen)
	}
	h := sha256.Sum256([]byte(key))
	for _, e := range k.entries {
		if e.hash == h {
			return fmt.Errorf("the same key appears twice")
		}
	}
	k.entries = append(k.entries, keyEntry{hash: h, role: role, name: name})
	return nil
}

// lookup returns the role of token and an actor name that identifies the key
// in logs, model and action events without revealing it: role:name for a
// named key, api-key:role:hash-prefix otherwise. Every key is compared, in
// constant time, so the time taken says nothing about which one matched.
func (k *Keys) lookup(token string) (Role, string) {
	h := sha256.Sum256([]byte(token))
	role, name := RoleNone, ""
	for _, e := range k.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			role, name = e.role, e.name
		}
	}
	switch {
	case role == RoleNone:
		return RoleNone, ""
	case name != "":
		return role, role.String() + ":" + name
	}
	return role, "api-key:" + role.String() + ":" + hex.EncodeToString(h[:4])
}

const (
	ctxRole      = "churn.role"
	ctxActor     = "churn.actor"
	ctxAgent     = "churn.agent" // the name claims are recorded under
	ctxRequestID = "churn.request_id"
)

// authenticate resolves the bearer key of the request into a role; requests
// without a valid key get 401 with a WWW-Authenticate challenge.
func (s *Server) authenticate(c *gin.Context) {
	if s.cfg.Insecure {
		c.Set(ctxRole, RoleAdmin)
		c.Set(ctxActor, "insecure-no-auth")
		c.Set(ctxAgent, "insecure-no-auth")
		return
	}
	h := c.GetHeader("Authorization")
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if h == "" || !strings.EqualFold(scheme, "Bearer") || token == "" {
		c.Header("WWW-Authenticate", `Bearer realm="churn"`)
		s.fail(c, churn.Errorf(churn.KindUnauthorized, "", "send an API key as Authorization: Bearer KEY"))
		return
	}
	role, actor := s.cfg.Keys.lookup(token)
	if role == RoleNone {
		c.Header("WWW-Authenticate", `Bearer realm="churn", error="invalid_token"`)
		s.fail(c, churn.Errorf(churn.KindUnauthorized, "", "the API key is not valid"))
		return
	}
	c.Set(ctxRole, role)
	c.Set(ctxActor, actor)
	c.Set(ctxAgent, agentName(actor))
}

// agentName is the identity a key works the queue under: the name of a
// named key (agent:dana:KEY works as dana), else its actor.
func agentName(actor string) string {
	if strings.HasPrefix(actor, "api-key:") {
		return actor
	}
	_, name, _ := strings.Cut(actor, ":")
	return name
}

// roleOf is the role authenticate found for the request.
func roleOf(c *gin.Context) Role {
	v, _ := c.Get(ctxRole)
	r, _ := v.(Role)
	return r
}

// require lets requests through whose role is at least r.
func (s *Server) require(r Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if have := roleOf(c); have < r {
			s.fail(c, churn.Errorf(churn.KindForbidden, "", "this route needs the %s role; the key has %s", r, have))
		}
	}
}
