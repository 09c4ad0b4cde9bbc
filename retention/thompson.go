package retention

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// drawBeta draws from Beta(a, b) as X/(X+Y) of two Gamma draws.
func drawBeta(r *rand.Rand, a, b float64) float64 {
	x, y := drawGamma(r, a), drawGamma(r, b)
	if x+y == 0 {
		return a / (a + b)
	}
	return x / (x + y)
}

// drawGamma draws from Gamma(k, 1) by Marsaglia and Tsang's method, with
// the usual boost for k < 1.
func drawGamma(r *rand.Rand, k float64) float64 {
	if k < 1 {
		return drawGamma(r, k+1) * math.Pow(r.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// PlanRand is the random source of a cycle's exploration under a policy:
// seeded by the policy's digest and the cycle, so planning a cycle again
// under the same policy draws the same save rates.
func PlanRand(p *Policy, cycle string) *rand.Rand {
	h := sha256.Sum256([]byte("explore\x00" + p.Digest + "\x00" + cycle))
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:16])))
}
