package serve

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"os"
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
}

// Len is the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.entries)
}

// ParseKeys reads a comma-separated list of role:key pairs, as in
// CHURN_API_KEYS. source names where the list came from, for errors.
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

// ReadKeysFile reads role:key lines from a file; blank lines and lines that
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
		return fmt.Errorf("want role:key, e.g. viewer:<random key>")
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
	k.entries = append(k.entries, keyEntry{hash: h, role: role})
	return nil
}

// lookup returns the role of token and an actor name that identifies the key
// in logs and model events without revealing it. Every key is compared, in
// constant time, so the time taken says nothing about which one matched.
func (k *Keys) lookup(token string) (Role, string) {
	h := sha256.Sum256([]byte(token))
	role := RoleNone
	for _, e := range k.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			role = e.role
		}
	}
	if role == RoleNone {
		return RoleNone, ""
	}
	return role, "api-key:" + role.String() + ":" + hex.EncodeToString(h[:4])
}

const (
	ctxRole      = "churn.role"
	ctxActor     = "churn.actor"
	ctxRequestID = "churn.request_id"
)

// authenticate resolves the bearer key of the request into a role; requests
// without a valid key get 401 with a WWW-Authenticate challenge.
func (s *Server) authenticate(c *gin.Context) {
	if s.cfg.Insecure {
		c.Set(ctxRole, RoleAdmin)
		c.Set(ctxActor, "insecure-no-auth")
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
}

// require lets requests through whose role is at least r.
func (s *Server) require(r Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		v, _ := c.Get(ctxRole)
		have, _ := v.(Role)
		if have < r {
			s.fail(c, churn.Errorf(churn.KindForbidden, "", "this route needs the %s role; the key has %s", r, have))
		}
	}
}
