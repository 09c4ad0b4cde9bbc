package eval

import (
	"math"
	"slices"

	"github.com/telcoretain/churn"
)

// Binning is how a calibration table groups rows by predicted probability.
type Binning string

// Binnings.
const (
	// EqualWidth splits [0, 1] into bins of equal width: [0, 0.1), [0.1, 0.2),
	// ..., [0.9, 1] for 10 bins (1.0 goes into the last bin). Easy to read, but
	// with rare churn most rows land in the first bins.
	EqualWidth Binning = "equal_width"
	// EqualFrequency puts about n/bins rows in each bin by rank of the
	// probability; rows with the same probability always share a bin, so ties
	// can leave fewer, larger bins.
	EqualFrequency Binning = "equal_frequency"
)

// DefaultBins is the number of bins of a calibration table unless asked otherwise.
const DefaultBins = 10

// CalibrationBin is one row of a calibration table. For EqualWidth bins, Lo and
// Hi are the bin edges (Lo included, Hi excluded except for the last bin) and an
// empty bin has Count 0 and zero means. For EqualFrequency bins, Lo and Hi are
// the smallest and largest probability in the bin.
type CalibrationBin struct {
	Lo            float64 `json:"lo"`
	Hi            float64 `json:"hi"`
	Count         int     `json:"count"`
	MeanPredicted float64 `json:"mean_predicted"`
	ObservedRate  float64 `json:"observed_rate"`
}

// CalibrationTable compares predicted probabilities with observed churn rates.
type CalibrationTable struct {
	Binning Binning          `json:"binning"`
	Bins    []CalibrationBin `json:"bins"`
	// ECE is the expected calibration error: the mean over rows of
	// |mean predicted - observed rate| of the row's bin. 0 is perfectly
	// calibrated at this resolution.
	ECE float64 `json:"ece"`
}

// Calibration builds a calibration table with the given number of bins
// (DefaultBins when bins is 0) and binning (EqualWidth when empty). Scores
// must be probabilities in [0, 1].
func Calibration(probs, labels []float64, bins int, binning Binning) (CalibrationTable, error) {
	const op = "calibration table"
	if _, _, err := classCounts(op, probs, labels, true); err != nil {
		return CalibrationTable{}, err
	}
	if bins == 0 {
		bins = DefaultBins
	}
	if bins < 0 {
		return CalibrationTable{}, churn.Invalid(op, "bins", "%d bins, want at least 1", bins)
	}
	if binning == "" {
		binning = EqualWidth
	}
	t := CalibrationTable{Binning: binning}
	switch binning {
	case EqualWidth:
		t.Bins = widthBins(probs, labels, bins)
	case EqualFrequency:
		rows := sortedDesc(probs, labels)
		slices.Reverse(rows)
		t.Bins = frequencyBins(rows, bins)
	default:
		return CalibrationTable{}, churn.Invalid(op, "binning", "%q, want %q or %q", binning, EqualWidth, EqualFrequency)
	}
	for _, b := range t.Bins {
		t.ECE += float64(b.Count) * math.Abs(b.MeanPredicted-b.ObservedRate)
	}
	t.ECE /= float64(len(probs))
	return t, nil
}

// widthBins sums rows into equal-width bins and turns the sums into means.
func widthBins(probs, labels []float64, bins int) []CalibrationBin {
	edge := func(i int) float64 { return float64(i) / float64(bins) }
	out := make([]CalibrationBin, bins)
	for i := range out {
		out[i].Lo, out[i].Hi = edge(i), edge(i+1)
	}
	for i, p := range probs {
		b := min(int(p*float64(bins)), bins-1)
		// p*bins can round across an edge (0.7*10 is 7.000000000000001); the
		// edges shown in the table decide.
		if b > 0 && p < out[b].Lo {
			b--
		} else if b < bins-1 && p >= out[b].Hi {
			b++
		}
		out[b].Count++
		out[b].MeanPredicted += p
		out[b].ObservedRate += labels[i]
	}
	for i := range out {
		if c := float64(out[i].Count); c > 0 {
			out[i].MeanPredicted /= c
			out[i].ObservedRate /= c
		}
	}
	return out
}

// frequencyBins cuts the rows sorted by probability at about every n/bins rows,
// moving each cut past any rows tied with the last row of the bin.
// rows must be sorted by ascending probability.
func frequencyBins(rows []row, bins int) []CalibrationBin {
	n := len(rows)
	var out []CalibrationBin
	start := 0
	for b := 1; b <= bins && start < n; b++ {
		end := int(math.Round(float64(b) * float64(n) / float64(bins)))
		if b == bins {
			end = n
		}
		if end <= start {
			continue
		}
		for end < n && rows[end].score == rows[end-1].score {
			end++
		}
		bin := CalibrationBin{Lo: rows[start].score, Hi: rows[end-1].score, Count: end - start}
		for _, r := range rows[start:end] {
			bin.MeanPredicted += r.score
			bin.ObservedRate += r.label
		}
		bin.MeanPredicted /= float64(bin.Count)
		bin.ObservedRate /= float64(bin.Count)
		out = append(out, bin)
		start = end
	}
	return out
}
