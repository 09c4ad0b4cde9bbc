package model

import (
	"math"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

const telcoCSV = `customerID,gender,SeniorCitizen,Partner,tenure,Contract,MonthlyCharges,TotalCharges,Churn
a1,Female,0,Yes,1,Month-to-month,29.85,29.85,No
a2,Male,0,No,34,One year,56.95,1889.5,No
a3,Male,0,No,2,Month-to-month,53.85,108.15,Yes
a4,Male,0,No,45,One year,42.30,1840.75,No
a5,Female,0,No,2,Month-to-month,70.70,151.65,Yes
a6,Female,1,No,8,Month-to-month,99.65, ,Yes
a7,Male,0,Yes,22,Two year,89.10,1949.4,No
`

func TestReadTrainingDetectsColumnKindsAndLabels(t *testing.T) {
	m, s, err := ReadTraining(strings.NewReader(telcoCSV), "telco.csv", "Churn", "customerID")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, c := range s.Columns {
		kinds[c.Name] = c.Kind
	}
	want := map[string]string{"gender": KindCategorical, "SeniorCitizen": KindNumeric, "Partner": KindBoolean,
		"tenure": KindNumeric, "Contract": KindCategorical, "MonthlyCharges": KindNumeric, "TotalCharges": KindNumeric}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("column %s detected as %q, want %q", k, kinds[k], v)
		}
	}
	if _, ok := kinds["customerID"]; ok {
		t.Error("id column used as a feature")
	}
	if got := m.Labels; got[2] != 1 || got[0] != 0 {
		t.Errorf("labels %v", got)
	}
	if m.IDs[6] != "a7" {
		t.Errorf("ids %v", m.IDs)
	}
	if v := m.Col("TotalCharges")[5]; !math.IsNaN(float64(v)) {
		t.Errorf("blank TotalCharges read as %v, want missing", v)
	}
	// Month-to-month is the most frequent contract: category 0.
	if v := m.Col("Contract")[0]; v != 0 {
		t.Errorf("Contract of row 1 = %v, want category 0", v)
	}
}

func TestReadTrainingErrorsNameTheProblem(t *testing.T) {
	for _, tc := range []struct {
		name, csv, label, want string
	}{
		{"wrong label", telcoCSV, "churned", `no column "churned"`},
		{"one class", "x,y\n1,No\n2,No\n3,no\n", "y", "only one class"},
		{"ragged", "x,y\n1,No\n2\n3,Yes\n", "y", "f.csv:3: wrong number of fields"},
		{"bad label", "x,y\n1,No\n2,maybe\n3,Yes\n", "y", `f.csv:3: y: "maybe" is not a label`},
		{"empty", "", "y", "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadTraining(strings.NewReader(tc.csv), "f.csv", tc.label, "")
			if err == nil || !strings.Contains(err.Error(), tc.want) || churn.ErrorKind(err) != churn.KindInvalid {
				t.Fatalf("err = %v, want invalid containing %q", err, tc.want)
			}
		})
	}
}

func TestReadScoringHandlesUnseenCategoriesAndMissingColumns(t *testing.T) {
	_, s, err := ReadTraining(strings.NewReader(telcoCSV), "telco.csv", "Churn", "customerID")
	if err != nil {
		t.Fatal(err)
	}
	in := "customerID,gender,SeniorCitizen,Partner,tenure,Contract,MonthlyCharges,TotalCharges\n" +
		"b1,Female,0,No,5,Three year,20,100\nb2,Male,NA,Yes,,One year,30,\n"
	m, err := s.ReadScoring(strings.NewReader(in), "new.csv")
	if err != nil {
		t.Fatal(err)
	}
	if m.Labels != nil {
		t.Error("labels present although the file has no label column")
	}
	if v := m.Col("Contract")[0]; !math.IsNaN(float64(v)) {
		t.Errorf("unseen category read as %v, want missing", v)
	}
	if v := m.Col("tenure")[1]; !math.IsNaN(float64(v)) {
		t.Errorf("empty tenure read as %v", v)
	}
	_, err = s.ReadScoring(strings.NewReader("customerID,gender\nb1,Male\n"), "short.csv")
	if err == nil || churn.ErrorField(err) != "SeniorCitizen" {
		t.Fatalf("missing training column: %v", err)
	}
}
