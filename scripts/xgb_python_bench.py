#!/usr/bin/python3
"""Times XGBoost training or prediction in Python for comparison with the Go wrapper.

BenchmarkTrain100kx50 in model/xgboost writes its matrix and labels as raw
little-endian float32 files and the booster parameters as JSON, then runs
this script with Debian's /usr/bin/python3 (python3-xgboost 1.7, the same
libxgboost the Go package links), so both sides train the same configuration
on the same data. Only xgboost.train is timed, as on the Go side.

Prints one JSON object: {"seconds": ..., "cpu_seconds": ..., "dmatrix_seconds": ...,
"xgboost": ...}; cpu_seconds counts all threads, which on a shared machine
is steadier than wall time.

With --predict MODEL (BenchmarkPredictVsPython), it loads that booster
(saved by the Go side in XGBoost's JSON) and times instead building the
DMatrix from the numpy array and predicting, the work the Go side times from
its matrix columns: "seconds" is both together, "dmatrix_seconds" the first;
"mean_prediction" lets the Go side check that both predicted the same.

Standalone use, with generated data:
    /usr/bin/python3 scripts/xgb_python_bench.py --rows 100000 --cols 50
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--x", help="row-major float32 features (raw little-endian)")
    ap.add_argument("--y", help="float32 labels (raw little-endian)")
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--cols", type=int, required=True)
    ap.add_argument("--params", help="booster parameters as a JSON object")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1, help="data seed when --x is not given")
    ap.add_argument("--predict", metavar="MODEL", help="time DMatrix + predict with this booster instead of training")
    ap.add_argument("--nthread", type=int, default=os.cpu_count(), help="threads for --predict")
    args = ap.parse_args()

    if args.x:
        x = np.fromfile(args.x, dtype="<f4")
        y = np.fromfile(args.y, dtype="<f4")
        if x.size != args.rows * args.cols or y.size != args.rows:
            print(f"{args.x}: {x.size} values and {y.size} labels, want "
                  f"{args.rows} x {args.cols}", file=sys.stderr)
            return 2
        x = x.reshape(args.rows, args.cols)
    else:
        rng = np.random.default_rng(args.seed)
        x = rng.random((args.rows, args.cols), dtype=np.float32)
        logit = 4 * (x[:, 0] - 0.5) - 3 * (x[:, 1] - 0.5)
        y = (rng.random(args.rows) < 1 / (1 + np.exp(-logit))).astype(np.float32)

    if args.predict:
        return predict(args.predict, x, args.nthread)

    if args.params:
        params = json.loads(args.params)
    else:
        params = {"objective": "binary:logistic", "eta": 0.1, "max_depth": 6,
                  "tree_method": "hist", "nthread": os.cpu_count(), "seed": 1}

    t0 = time.perf_counter()
    dtrain = xgb.DMatrix(x, label=y, missing=np.nan,
                         nthread=int(params.get("nthread", 0)))
    t1, c1 = time.perf_counter(), time.process_time()
    xgb.train(params, dtrain, num_boost_round=args.rounds)
    t2, c2 = time.perf_counter(), time.process_time()

    print(json.dumps({"seconds": t2 - t1, "cpu_seconds": c2 - c1,
                      "dmatrix_seconds": t1 - t0, "xgboost": xgb.__version__}))
    return 0


def predict(model, x, nthread):
    """Times building the DMatrix from x and predicting with the booster in model."""
    bst = xgb.Booster(model_file=model)
    bst.set_param({"nthread": nthread})
    t0, c0 = time.perf_counter(), time.process_time()
    d = xgb.DMatrix(x, missing=np.nan, nthread=nthread)
    t1 = time.perf_counter()
    p = bst.predict(d)
    t2, c2 = time.perf_counter(), time.process_time()
    print(json.dumps({"seconds": t2 - t0, "cpu_seconds": c2 - c0, "dmatrix_seconds": t1 - t0,
                      "rows": int(p.size), "mean_prediction": float(np.mean(p, dtype=np.float64)),
                      "xgboost": xgb.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
