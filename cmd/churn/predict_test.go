package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTelcoCSV writes a labelled file with numeric, boolean and categorical
// columns, missing values and an id, where churn depends on contract,
// tenure and charges.
func writeTelcoCSV(t *testing.T, path string, n int, withLabel bool) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 5))
	var b strings.Builder
	b.WriteString("customer,contract,tenure,charges,paperless,region")
	if withLabel {
		b.WriteString(",Churn")
	}
	b.WriteString("\n")
	contracts := []string{"Month-to-month", "One year", "Two year"}
	for i := range n {
		c := r.IntN(3)
		tenure := r.IntN(72) + 1
		charges := 20 + r.Float64()*100
		paper := []string{"Yes", "No"}[r.IntN(2)]
		z := -1.0 - 0.04*float64(tenure) + 0.015*charges
		if c == 0 {
			z += 1.2
		}
		label := "No"
		if r.Float64() < 1/(1+math.Exp(-z)) {
			label = "Yes"
		}
		ch := fmt.Sprintf("%.2f", charges)
		if i%37 == 0 {
			ch = "NA"
		}
		fmt.Fprintf(&b, "id%05d,%s,%d,%s,%s,r%d", i, contracts[c], tenure, ch, paper, r.IntN(4))
		if withLabel {
			b.WriteString("," + label)
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTrainAndPredictOnAnyLabelledCSV(t *testing.T) {
	dir := t.TempDir()
	train, score, mdl, out := filepath.Join(dir, "train.csv"), filepath.Join(dir, "score.csv"), filepath.Join(dir, "m.json"), filepath.Join(dir, "out.csv")
	writeTelcoCSV(t, train, 1500, true)
	writeTelcoCSV(t, score, 200, false)
	stdout, stderr, code := run(t, "train", "--csv", train, "--label", "Churn", "--id", "customer", "--out", mdl, "--folds", "3")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	for _, want := range []string{"1500 rows", "contract: categorical", "paperless: boolean", "logistic-c0.1", "xgboost-d4", "ROC-AUC", "top features", "tenure"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	stdout, stderr, code = run(t, "predict", "--model", mdl, "--csv", score, "--out", out)
	if code != 0 {
		t.Fatalf("predict exit %d: %s", code, stderr)
	}
	recs := readCSV(t, out)
	if len(recs) != 201 || recs[0][0] != "customer" || recs[0][1] != "churn_probability" || recs[1][0] != "id00000" || recs[200][0] != "id00199" {
		t.Fatalf("predict output: %d rows, header %v, first %v", len(recs), recs[0], recs[1])
	}
	if !strings.Contains(stdout, "scored 200 rows") {
		t.Errorf("predict output: %s", stdout)
	}
}

func TestTrainAndPredictRejectBadInputWithoutWritingOutput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	writeTelcoCSV(t, good, 300, true)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oneClass := write("one.csv", "a,b,y\n1,x,No\n2,y,No\n3,x,No\n")
	ragged := write("ragged.csv", "a,b,y\n1,x,No\n2,Yes\n3,x,Yes\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong label", []string{"train", "--csv", good, "--label", "churned"}, `no column "churned"`},
		{"one class", []string{"train", "--csv", oneClass, "--label", "y"}, "only one class"},
		{"ragged row", []string{"train", "--csv", ragged, "--label", "y"}, "ragged.csv:3"},
		{"missing file", []string{"train", "--csv", filepath.Join(dir, "nope.csv"), "--label", "y"}, "nope.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".json")
			_, stderr, code := run(t, append(tc.args, "--out", out)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("output file written despite the error")
			}
		})
	}
	// A predict file without a training column.
	mdl := filepath.Join(dir, "m.json")
	if _, stderr, code := run(t, "train", "--csv", good, "--label", "Churn", "--id", "customer", "--out", mdl, "--folds", "3"); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	short := write("short.csv", "customer,contract,tenure\nid1,Two year,5\n")
	out := filepath.Join(dir, "scores.csv")
	_, stderr, code := run(t, "predict", "--model", mdl, "--csv", short, "--out", out)
	if code != 2 || !strings.Contains(stderr, `no column "charges"`) {
		t.Fatalf("predict with a missing column: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("predict wrote output despite the error")
	}
}
