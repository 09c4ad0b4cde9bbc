package serve

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVendoredChartJSMatchesLockFile fails when the vendored Chart.js is
// stale: its banner must name the version package-lock.json pins, the
// vendor README must record that version, and every vendored file must
// match the checksum scripts/vendor-web.sh recorded.
func TestVendoredChartJSMatchesLockFile(t *testing.T) {
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
			License string `json:"license"`
		} `json:"packages"`
	}
	b, err := os.ReadFile("../package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatalf("package-lock.json: %v", err)
	}
	pkg, ok := lock.Packages["node_modules/chart.js"]
	if !ok || pkg.Version == "" {
		t.Fatal("package-lock.json pins no chart.js")
	}
	vendored, err := webFS.ReadFile("web/vendor/chart.umd.min.js")
	if err != nil {
		t.Fatal(err)
	}
	banner := regexp.MustCompile(`Chart\.js v(\S+)`).FindSubmatch(vendored[:min(len(vendored), 200)])
	if banner == nil || string(banner[1]) != pkg.Version {
		t.Errorf("vendored chart.umd.min.js is %q, package-lock.json pins %s: run scripts/vendor-web.sh", banner, pkg.Version)
	}
	readme, err := os.ReadFile("web/vendor/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if row := "| " + pkg.Version + " | " + strings.ToUpper(pkg.License[:1]) + pkg.License[1:]; !bytes.Contains(readme, []byte(row)) {
		t.Errorf("web/vendor/README.md does not record version %s and licence %s", pkg.Version, pkg.License)
	}
	sums, err := os.Open("web/vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer sums.Close()
	checked := 0
	sc := bufio.NewScanner(sums)
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		got, err := os.ReadFile(filepath.Join("web/vendor", name))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != want {
			t.Errorf("web/vendor/%s does not match its recorded checksum: run scripts/vendor-web.sh", name)
		}
		checked++
	}
	if checked < 2 {
		t.Errorf("SHA256SUMS checks %d files, want chart.umd.min.js and LICENSE.md", checked)
	}
}
