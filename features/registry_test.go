package features

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

func TestRegistryHasAtLeast40DescribedSnakeCaseFeatures(t *testing.T) {
	fs := Registry()
	if len(fs) < 40 {
		t.Fatalf("registry has %d features, want at least 40", len(fs))
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	families := map[string]bool{FamilyRFM: true, FamilyUsage: true, FamilyBilling: true, FamilySupport: true,
		FamilyPlan: true, FamilyProfile: true, FamilyValue: true, FamilyLifecycle: true}
	seen := map[string]bool{}
	perFamily := map[string]int{}
	for _, f := range fs {
		switch {
		case !snake.MatchString(f.Name):
			t.Errorf("%q is not snake_case", f.Name)
		case seen[f.Name]:
			t.Errorf("%q appears twice", f.Name)
		case strings.TrimSpace(f.Description) == "":
			t.Errorf("%s has no description", f.Name)
		case strings.TrimSpace(f.Unit) == "":
			t.Errorf("%s has no unit", f.Name)
		case !families[f.Family]:
			t.Errorf("%s has unknown family %q", f.Name, f.Family)
		case (f.Unit == unitCategory) != (f.Categories != nil):
			t.Errorf("%s: unit %q but categories %v: categorical features and only they have Categories", f.Name, f.Unit, f.Categories)
		}
		seen[f.Name] = true
		perFamily[f.Family]++
	}
	for fam := range families {
		if perFamily[fam] == 0 {
			t.Errorf("family %s has no feature", fam)
		}
	}
}

func TestRegistryIsAFreshCopyEachCall(t *testing.T) {
	a := Registry()
	cat := slices.IndexFunc(a, func(f churn.Feature) bool { return len(f.Categories) > 0 })
	if cat < 0 {
		t.Fatal("no categorical feature in the registry")
	}
	a[0].Name = "changed"
	a[cat].Categories[0] = "Z"
	b := Registry()
	if b[0].Name == "changed" || b[cat].Categories[0] == "Z" {
		t.Fatal("changing one registry copy changed the next")
	}
}

func TestWithRegionsSetsOnlyTheRegionCategories(t *testing.T) {
	base := Registry()
	fs := WithRegions(base, nil)
	r, _ := Lookup(fs, NameRegion)
	if r.Categories == nil {
		t.Fatal("region without regions must stay categorical (empty, not nil categories)")
	}
	fs = WithRegions(base, []string{"north", "south"})
	r, _ = Lookup(fs, NameRegion)
	if strings.Join(r.Categories, ",") != "north,south" {
		t.Errorf("region categories = %v", r.Categories)
	}
	if r0, _ := Lookup(base, NameRegion); len(r0.Categories) != 0 {
		t.Errorf("WithRegions changed its input: %v", r0.Categories)
	}
}

func TestOnlyValueFeaturesAreDerivedInGo(t *testing.T) {
	for _, f := range Registry() {
		if derived(f.Name) && f.Family != FamilyValue {
			t.Errorf("%s is derived in Go but in family %s", f.Name, f.Family)
		}
	}
}
