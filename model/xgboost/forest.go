package xgboost

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/telcoretain/churn"
)

// ErrForestUnsupported is the cause of the error Booster.Forest returns for
// a model its Go tree walk cannot reproduce exactly (categorical splits,
// DART, several outputs, an objective whose base margin it does not know).
// XGBoost's own ContribsApprox still explains such a model.
var ErrForestUnsupported = errors.New("xgboost: model not supported by the Go tree walk")

// Forest is a booster's trees copied into Go memory for Saabas
// contributions computed in Go (see Contribs). It holds the trees that
// predictions use (up to the best iteration after early stopping) and is
// read-only, so safe for concurrent use.
//
// XGBoost 1.7's own ContribsApprox costs rows x trees x features: per row and
// tree it zero-fills and adds a vector as wide as the matrix, after copying
// the matrix into a DMatrix. The walk here costs rows x trees x depth and
// reads the caller's columns in place.
type Forest struct {
	// nodes holds every tree, each in breadth-first order from its root,
	// with the two children of a split next to each other: 16 bytes a node,
	// so a depth-6 tree of 127 nodes takes 2 KiB and stays in cache while a
	// block of rows walks it.
	nodes    []forestNode
	roots    []int32 // index of each tree's root in nodes, in boosting order
	depths   []int32 // each tree's depth: the most splits on a path from its root
	bias     float32 // base margin plus every tree's root mean value
	features int
}

// forestNode is one node of a Forest. A leaf is its own left child, with
// condition +Inf and feature index features (a slot past the real features
// that the walk keeps at 0): a row that reached it stays there for the
// remaining levels of the walk, without a branch, and the credits it keeps
// adding go to that spare slot.
type forestNode struct {
	cond float32 // split condition: a row goes left iff its value < cond
	// delta is this node's mean value minus its parent's, in float32 as
	// XGBoost computes it: the Saabas credit of the parent's split feature
	// for a row that reaches this node. 0 at a root.
	delta        float32
	left         int32  // index of the left child, the right one at left+1
	feature      uint16 // split feature
	missingRight uint8  // 1 when a missing value (NaN) goes right
	_            uint8
}

// maxForestFeatures is the widest matrix a Forest takes: a forestNode's
// feature index holds every feature and the leaves' spare slot.
const maxForestFeatures = math.MaxUint16

// Features returns the number of features (columns) the forest takes.
func (f *Forest) Features() int { return f.features }

// Trees returns the number of trees the forest walks.
func (f *Forest) Trees() int { return len(f.roots) }

// Bias returns the bias of every row's contributions: the model's base
// margin plus the mean value of each tree. It is the last value of each row
// of ContribsApprox, and the same for every row.
func (f *Forest) Bias() float32 { return f.bias }

// Forest returns the booster's trees in Go memory, copied out of the model's
// JSON on first use and kept until the Booster is dropped; later calls and
// concurrent ones share that copy. Models the Go walk cannot reproduce get an
// error wrapping ErrForestUnsupported.
func (b *Booster) Forest() (*Forest, error) {
	b.forestOnce.Do(func() {
		const op = "forest"
		var model []byte
		model, b.forestErr = b.Save("json")
		if b.forestErr != nil {
			return
		}
		b.forest, b.forestErr = parseForest(model, b.iterationEnd())
		if b.forestErr == nil && b.forest.features != b.features {
			b.forest, b.forestErr = nil, churn.Errorf(churn.KindInternal, "xgboost "+op,
				"model JSON has %d features, the booster %d", b.forest.features, b.features)
		}
	})
	return b.forest, b.forestErr
}

// jsonModel is the part of XGBoost 1.7's JSON model (doc/model.schema in
// XGBoost's sources) a Forest is built from.
type jsonModel struct {
	Learner struct {
		Param struct {
			BaseScore  string `json:"base_score"`
			NumClass   string `json:"num_class"`
			NumTarget  string `json:"num_target"`
			NumFeature string `json:"num_feature"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
		Booster struct {
			Name  string `json:"name"`
			Model struct {
				Param struct {
					NumParallelTree string `json:"num_parallel_tree"`
				} `json:"gbtree_model_param"`
				TreeInfo []int      `json:"tree_info"`
				Trees    []jsonTree `json:"trees"`
			} `json:"model"`
		} `json:"gradient_booster"`
	} `json:"learner"`
}

// jsonTree is one tree of the JSON model, as parallel arrays indexed by
// node. A leaf has left child -1 and its value in split_conditions.
// encoding/json reads float32 fields with 32-bit rounding, so the values are
// bit-identical to XGBoost's.
type jsonTree struct {
	Left        []int32   `json:"left_children"`
	Right       []int32   `json:"right_children"`
	SplitIndex  []int32   `json:"split_indices"`
	SplitCond   []float32 `json:"split_conditions"`
	DefaultLeft []int32   `json:"default_left"`
	SplitType   []int32   `json:"split_type"`
	SumHessian  []float32 `json:"sum_hessian"`
}

// parseForest builds a Forest from a JSON model, keeping the trees of rounds
// [0, iterationEnd), every tree when iterationEnd is 0.
func parseForest(model []byte, iterationEnd int) (*Forest, error) {
	const op = "xgboost forest"
	var m jsonModel
	if err := json.Unmarshal(model, &m); err != nil {
		return nil, churn.Errorf(churn.KindInternal, op, "read the model's JSON: %v", err)
	}
	l := &m.Learner
	unsupported := func(format string, args ...any) error {
		return &churn.Error{Op: op, Kind: churn.KindInvalid, Msg: fmt.Sprintf(format, args...), Err: ErrForestUnsupported}
	}
	if l.Booster.Name != "gbtree" {
		return nil, unsupported("booster %q, the Go walk reads gbtree only", l.Booster.Name)
	}
	if n := atoiOr(l.Param.NumClass, 0); n > 1 {
		return nil, unsupported("%d classes, the Go walk explains one output", n)
	}
	if n := atoiOr(l.Param.NumTarget, 1); n > 1 {
		return nil, unsupported("%d targets, the Go walk explains one output", n)
	}
	features, err := strconv.Atoi(l.Param.NumFeature)
	if err != nil || features <= 0 || features > maxForestFeatures {
		return nil, unsupported("num_feature %q is not in [1, %d]", l.Param.NumFeature, maxForestFeatures)
	}
	base, err := baseMargin(l.Objective.Name, l.Param.BaseScore)
	if err != nil {
		return nil, unsupported("%v", err)
	}
	trees := l.Booster.Model.Trees
	if iterationEnd > 0 {
		// Each round adds num_parallel_tree trees of the one output group.
		n := iterationEnd * atoiOr(l.Booster.Model.Param.NumParallelTree, 1)
		if n > len(trees) {
			return nil, churn.Errorf(churn.KindInternal, op, "model has %d trees, predictions use %d", len(trees), n)
		}
		trees = trees[:n]
	}
	for i, g := range l.Booster.Model.TreeInfo[:min(len(trees), len(l.Booster.Model.TreeInfo))] {
		if g != 0 {
			return nil, unsupported("tree %d belongs to output group %d", i, g)
		}
	}
	f := &Forest{features: features, roots: make([]int32, 0, len(trees)), depths: make([]int32, 0, len(trees))}
	var bias float32
	for i := range trees {
		rootMean, err := f.add(&trees[i])
		if err != nil {
			var e *churn.Error
			if errors.As(err, &e) {
				e.Op, e.Msg = op, fmt.Sprintf("tree %d: %s", i, e.Msg)
			}
			return nil, err
		}
		// XGBoost sums each tree's root mean into the bias in tree order and
		// adds the base margin last; float32 addition is not associative.
		bias += rootMean
	}
	f.bias = bias + base
	return f, nil
}

// atoiOr reads an integer parameter, def when it is absent or unreadable.
func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// baseMargin is the margin of XGBoost's base_score (saved as a probability
// for logistic objectives), as its objective's ProbToMargin computes it in
// float32.
func baseMargin(objective, baseScore string) (float32, error) {
	v, err := strconv.ParseFloat(baseScore, 32)
	if err != nil {
		return 0, fmt.Errorf("base_score %q is not a number", baseScore)
	}
	p := float32(v)
	switch objective {
	case "binary:logistic", "reg:logistic":
		if !(p > 0 && p < 1) {
			return 0, fmt.Errorf("base_score %v of %s is not a probability in (0, 1)", p, objective)
		}
		return -float32(math.Log(float64(1/p - 1))), nil
	case "binary:logitraw", "reg:squarederror", "reg:linear":
		return p, nil
	}
	return 0, fmt.Errorf("objective %q: the Go walk knows the base margin of binary:logistic, binary:logitraw, reg:logistic and reg:squarederror only", objective)
}

// add appends one tree in breadth-first order and returns its root's mean
// value.
func (f *Forest) add(t *jsonTree) (float32, error) {
	n := len(t.Left)
	if n == 0 || len(t.Right) != n || len(t.SplitIndex) != n || len(t.SplitCond) != n ||
		len(t.DefaultLeft) != n || len(t.SumHessian) != n || (t.SplitType != nil && len(t.SplitType) != n) {
		return 0, churn.Errorf(churn.KindInternal, "", "node arrays of different lengths (%d left children)", n)
	}
	mean := make([]float32, n)
	if err := t.fillMeans(0, 0, mean); err != nil {
		return 0, err
	}
	base := int32(len(f.nodes))
	f.roots = append(f.roots, base)
	f.nodes = append(f.nodes, forestNode{})
	// order[k] is the JSON index of the node at base+k, depth[k] its depth.
	order, depth := []int32{0}, []int32{0}
	var treeDepth int32
	for k := 0; k < len(order); k++ {
		j, at := order[k], base+int32(k)
		nd := &f.nodes[at]
		treeDepth = max(treeDepth, depth[k])
		if t.Left[j] < 0 {
			nd.cond, nd.left, nd.feature = float32(math.Inf(1)), at, uint16(f.features)
			continue
		}
		if t.SplitType != nil && t.SplitType[j] != 0 {
			return 0, &churn.Error{Kind: churn.KindInvalid, Msg: fmt.Sprintf("node %d is a categorical split", j), Err: ErrForestUnsupported}
		}
		if fi := t.SplitIndex[j]; fi < 0 || int(fi) >= f.features {
			return 0, churn.Errorf(churn.KindInternal, "", "node %d splits on feature %d of %d", j, fi, f.features)
		}
		l, r := t.Left[j], t.Right[j]
		nd.cond, nd.left, nd.feature = t.SplitCond[j], base+int32(len(order)), uint16(t.SplitIndex[j])
		if t.DefaultLeft[j] == 0 {
			nd.missingRight = 1
		}
		// XGBoost credits new_value - node_value, both float32.
		f.nodes = append(f.nodes,
			forestNode{delta: mean[l] - mean[j]},
			forestNode{delta: mean[r] - mean[j]})
		order = append(order, l, r)
		depth = append(depth, depth[k]+1, depth[k]+1)
	}
	f.depths = append(f.depths, treeDepth)
	return mean[0], nil
}

// fillMeans computes the mean value of node j and its subtree as XGBoost
// 1.7's FillNodeMeanValues does, in float32: a leaf's value, or the
// hessian-weighted mean of its children's mean values.
func (t *jsonTree) fillMeans(j int32, depth int, mean []float32) error {
	n := int32(len(t.Left))
	if depth >= int(n) || j < 0 || j >= n {
		return churn.Errorf(churn.KindInternal, "", "node %d is not a node of a %d-node tree (or the tree has a cycle)", j, n)
	}
	l, r := t.Left[j], t.Right[j]
	if l < 0 {
		mean[j] = t.SplitCond[j]
		return nil
	}
	if err := t.fillMeans(l, depth+1, mean); err != nil {
		return err
	}
	if err := t.fillMeans(r, depth+1, mean); err != nil {
		return err
	}
	// The explicit conversions keep Go from fusing a multiply and an add
	// into one rounding, which XGBoost's build does not do.
	s := float32(mean[l]*t.SumHessian[l]) + float32(mean[r]*t.SumHessian[r])
	mean[j] = s / t.SumHessian[j]
	return nil
}
