#!/usr/bin/python3
"""Compare `churn train --csv` with scikit-learn and XGBoost baselines.

For each data set (synthetic tables of different shapes: few rows, many
categoricals, 5% churners, a telco-like mix) and each of several stratified
75/25 splits (seeds 0..N-1), train the baselines the accuracy target names
(logistic regression, random forest with 500 trees, HistGradientBoosting,
XGBoost with 300 rounds and depth 5, each with standard preprocessing) on the
75%, and `churn train --csv` on the same rows; report each one's mean ROC-AUC
on the 25% over the splits, and a 95% confidence interval of the paired
difference between `churn train --csv` and the best baseline.

Rule, per data set: the mean AUC of `churn train --csv` over the splits must
be at least the best baseline's mean AUC minus MARGIN (0.005). The script
exits 1 when any data set falls short, so `make accuracy` fails.

Usage: scripts/compare_sklearn.py CHURN_BINARY [WORKDIR] [--splits N]
Needs Debian's python3-sklearn, python3-pandas and python3-xgboost.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from scipy import stats
import xgboost as xgb


def telco_like(n, rng):
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.25, 0.2])
    tenure = rng.integers(1, 73, n)
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.35, 0.45, 0.2])
    charges = np.round(rng.uniform(18, 120, n), 2)
    total = np.round(charges * tenure * rng.uniform(0.9, 1.1, n), 2)
    senior = rng.choice([0, 1], n, p=[0.84, 0.16])
    paperless = rng.choice(["Yes", "No"], n)
    payment = rng.choice(["Electronic check", "Mailed check", "Bank transfer", "Credit card"], n)
    z = (-1.2 + 1.4 * (contract == "Month-to-month") - 0.9 * (contract == "Two year")
         - 0.035 * tenure + 0.7 * (internet == "Fiber optic") + 0.01 * (charges - 60)
         + 0.3 * senior + 0.35 * (payment == "Electronic check") + 0.2 * (paperless == "Yes")
         + 0.5 * np.sin(tenure / 6.0) * (internet == "DSL"))
    y = rng.random(n) < 1 / (1 + np.exp(-z))
    df = pd.DataFrame(dict(contract=contract, tenure=tenure, internet=internet, charges=charges,
                           total=total, senior=senior, paperless=paperless, payment=payment))
    df.loc[rng.random(n) < 0.01, "total"] = np.nan
    df["churn"] = np.where(y, "Yes", "No")
    return df


def nonlinear(n, rng, imbalance=None, n_cat=0):
    x = rng.normal(size=(n, 8))
    z = (np.where(x[:, 0] > 0.5, 1.5, -0.5) + x[:, 1] * x[:, 2] + np.abs(x[:, 3]) - 0.8
         + 0.5 * x[:, 4])
    cats = {}
    for k in range(n_cat):
        levels = [f"c{k}_{i}" for i in range(4 + 3 * k)]
        v = rng.choice(levels, n)
        eff = {lv: rng.normal(0, 0.8) for lv in levels}
        z = z + np.array([eff[a] for a in v])
        cats[f"cat{k}"] = v
    if imbalance:
        # shift the intercept so that about `imbalance` of rows churn
        lo, hi = -20.0, 20.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if np.mean(1 / (1 + np.exp(-(z + mid)))) > imbalance:
                hi = mid
            else:
                lo = mid
        z = z + (lo + hi) / 2
    y = rng.random(n) < 1 / (1 + np.exp(-z))
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(8)])
    for k, v in cats.items():
        df[k] = v
    df["churn"] = y.astype(int)
    return df


def baselines(train, test, label):
    X, y = train.drop(columns=[label]), (train[label].isin(["Yes", 1])).astype(int)
    Xt, yt = test.drop(columns=[label]), (test[label].isin(["Yes", 1])).astype(int)
    cat = [c for c in X.columns if X[c].dtype == object]
    num = [c for c in X.columns if c not in cat]
    onehot = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cat)])
    ordinal = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), num),
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cat)])
    models = {
        "sklearn_logistic": make_pipeline(onehot, LogisticRegression(max_iter=2000)),
        "random_forest_500": make_pipeline(ordinal, RandomForestClassifier(n_estimators=500, n_jobs=2, random_state=0)),
        "hist_gradient_boosting": make_pipeline(ordinal, HistGradientBoostingClassifier(random_state=0)),
        "xgboost_300_d5": make_pipeline(ordinal, xgb.XGBClassifier(n_estimators=300, max_depth=5, n_jobs=2, random_state=0)),
    }
    out = {}
    for name, m in models.items():
        m.fit(X, y)
        out[name] = roc_auc_score(yt, m.predict_proba(Xt)[:, 1])
    return out


def ours(binary, train, test, label, work):
    tr, te = os.path.join(work, "train.csv"), os.path.join(work, "test.csv")
    mdl, out = os.path.join(work, "model.json"), os.path.join(work, "scores.csv")
    train.to_csv(tr, index=False)
    test.drop(columns=[label]).to_csv(te, index=False)
    subprocess.run([binary, "train", "--csv", tr, "--label", label, "--out", mdl], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([binary, "predict", "--model", mdl, "--csv", te, "--out", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p = pd.read_csv(out)["churn_probability"]
    return roc_auc_score((test[label].isin(["Yes", 1])).astype(int), p)


MARGIN = 0.005
BASELINES = ["sklearn_logistic", "random_forest_500", "hist_gradient_boosting", "xgboost_300_d5"]


def interval(diffs):
    """95% t confidence interval of the mean of diffs (paired differences)."""
    d = np.asarray(diffs)
    if len(d) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return d.mean() - half, d.mean() + half


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary", help="the churn binary")
    ap.add_argument("work", nargs="?", help="working directory (default: a temporary one)")
    ap.add_argument("--splits", type=int, default=5, help="75/25 splits per data set (seeds 0..N-1)")
    args = ap.parse_args()
    if args.splits < 1:
        ap.error(f"--splits {args.splits}: want 1 or more")
    work = args.work or tempfile.mkdtemp()
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(42)
    sets = {
        "telco_like_7000": telco_like(7000, rng),
        "few_rows_400": nonlinear(400, rng),
        "many_categoricals_5000": nonlinear(5000, rng, n_cat=5),
        "imbalanced_5pct_20000": nonlinear(20000, rng, imbalance=0.05),
    }
    print(f"Mean ROC-AUC over {args.splits} stratified 75/25 splits (seeds 0..{args.splits - 1}).")
    print(f"Rule: per data set, mean AUC of churn_train_csv >= best baseline mean AUC - {MARGIN}.")
    print(f"{'data set':26} {'churn':>6} " + " ".join(f"{h:>22}" for h in BASELINES + ["churn_train_csv"])
          + f"  {'diff to best (95% CI)':>30}  verdict", flush=True)
    short = []
    for name, df in sets.items():
        aucs = {k: [] for k in BASELINES + ["churn_train_csv"]}
        for seed in range(args.splits):
            train, test = train_test_split(df, test_size=0.25, random_state=seed, stratify=df["churn"])
            for k, v in baselines(train, test, "churn").items():
                aucs[k].append(v)
            aucs["churn_train_csv"].append(ours(args.binary, train, test, "churn", work))
        mean = {k: float(np.mean(v)) for k, v in aucs.items()}
        best = max(BASELINES, key=lambda k: mean[k])
        diffs = np.array(aucs["churn_train_csv"]) - np.array(aucs[best])
        lo, hi = interval(diffs)
        gap = mean["churn_train_csv"] - mean[best]
        ok = gap >= -MARGIN
        if not ok:
            short.append(name)
        verdict = "ok" if ok else f"SHORT by {-gap - MARGIN:.4f} beyond the margin"
        print(f"{name:26} {df['churn'].isin(['Yes', 1]).mean():6.3f} "
              + " ".join(f"{mean[k]:22.4f}" for k in BASELINES + ["churn_train_csv"])
              + f"  {gap:+8.4f} [{lo:+.4f}, {hi:+.4f}] vs {best[:10]:10}  {verdict}", flush=True)
    if short:
        print(f"accuracy: FAILED on {', '.join(short)}")
        return 1
    print("accuracy: every data set within the rule")
    return 0


if __name__ == "__main__":
    sys.exit(main())
