"""Helpers the notebooks share: the CHURN_* configuration, ClickHouse queries,
the HTTP API, point-in-time snapshots from the churn binary, and the model
files of the registry evaluated with python3-xgboost and NumPy alone.

The notebooks read the same environment as the churn binary:

  CHURN_CLICKHOUSE_ADDR  ClickHouse native protocol address (127.0.0.1:9000)
  CHURN_CLICKHOUSE_DB    database (churn)
  CHURN_CLICKHOUSE_USER, CHURN_CLICKHOUSE_PASSWORD
  CHURN_API_URL          base URL of `churn serve` (http://127.0.0.1:8080)
  CHURN_API_KEY          an API key of `churn serve` (the viewer role is enough)
  CHURN_BIN              the churn binary (../bin/churn from this folder)
"""

import base64
import json
import math
import os
import re
import subprocess
import tempfile
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
from clickhouse_driver import Client

HERE = os.path.dirname(os.path.abspath(__file__))


def settings():
    """The effective configuration, with the same defaults as `churn config`."""
    return {
        "addr": os.environ.get("CHURN_CLICKHOUSE_ADDR", "127.0.0.1:9000"),
        "db": os.environ.get("CHURN_CLICKHOUSE_DB", "churn"),
        "user": os.environ.get("CHURN_CLICKHOUSE_USER", "default"),
        "password": os.environ.get("CHURN_CLICKHOUSE_PASSWORD", ""),
        "api_url": os.environ.get("CHURN_API_URL", "http://127.0.0.1:8080").rstrip("/"),
        "api_key": os.environ.get("CHURN_API_KEY", ""),
        "bin": os.environ.get("CHURN_BIN", os.path.join(HERE, "..", "bin", "churn")),
    }


_client = None


def client():
    """A ClickHouse client on the configured database (native protocol)."""
    global _client
    if _client is None:
        s = settings()
        host, _, port = s["addr"].rpartition(":")
        _client = Client(host=host, port=int(port), database=s["db"], user=s["user"],
                         password=s["password"], settings={"use_numpy": False})
    return _client


_tables = None
_TABLE_REF = re.compile(r"\b(FROM|JOIN)(\s+)([A-Za-z_][A-Za-z0-9_]*)\b", re.IGNORECASE)


def qualify(sql):
    """Names the database of every table of it that sql reads (after FROM and
    JOIN). On a cluster (`churn migrate --cluster`) the tables are Distributed,
    and a distributed query sends its JOINs and subqueries to the other shards
    as written, where an unqualified table is looked up in the default
    database; the churn binary's queries do the same (clickhouse/cluster_conn.go)."""
    global _tables
    if _tables is None:
        _tables = {r[0] for r in client().execute("SELECT name FROM system.tables WHERE database = currentDatabase()")}
    db = settings()["db"]
    return _TABLE_REF.sub(lambda m: f"{m[1]}{m[2]}{db}.{m[3]}" if m[3] in _tables else m[0], sql)


def query(sql, params=None):
    """Runs a SELECT and returns a DataFrame (columns named as in the query)."""
    rows, cols = client().execute(qualify(sql), params or {}, with_column_types=True)
    return pd.DataFrame(rows, columns=[c for c, _ in cols])


def table_exists(name):
    return query("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = %(t)s",
                 {"t": name}).n[0] > 0


class APIError(Exception):
    """A non-2xx answer of the API, with its status and error body."""

    def __init__(self, status, path, body):
        super().__init__(f"GET {path}: HTTP {status}: {body}")
        self.status = status
        try:
            self.message = json.loads(body)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            self.message = body


def api(path):
    """GETs a route of the API with the configured key and returns the decoded JSON."""
    s = settings()
    req = urllib.request.Request(s["api_url"] + path, headers={"Authorization": "Bearer " + s["api_key"]})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise APIError(e.code, path, e.read().decode(errors="replace")) from None
    except urllib.error.URLError as e:
        raise RuntimeError(f"the API at {s['api_url']} does not answer ({e.reason}); "
                           "start `churn serve` and set CHURN_API_URL and CHURN_API_KEY") from None


def snapshot(as_of, horizon="30d"):
    """The point-in-time feature snapshot at as_of (a date or YYYY-MM-DD), computed
    by the service's own SQL through `churn features`, as a DataFrame: customer_id,
    one column per registry feature (categorical ones as text), label (1 churned
    within the horizon, 0 not, NaN while the horizon has not passed)."""
    as_of = pd.Timestamp(as_of).strftime("%Y-%m-%d")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "snapshot.csv")
        subprocess.run([settings()["bin"], "features", "--as-of", as_of, "--horizon", horizon, "--out", out,
                        "--log-level", "warn"], check=True, stdout=subprocess.DEVNULL)
        return pd.read_csv(out, dtype={"customer_id": str}, keep_default_na=False, na_values=[""])


def data_end():
    """The day after the latest usage day: the as-of date of `churn score` by default."""
    d = query("SELECT max(day) AS d FROM usage_daily").d[0]
    return pd.Timestamp(d) + pd.Timedelta(days=1)


# ---- model files -----------------------------------------------------------

def load_model(version):
    """The model file (a dict) of a registry version, read from table models."""
    df = query("SELECT artifact FROM models WHERE version = %(v)s LIMIT 1", {"v": int(version)})
    if df.empty:
        raise KeyError(f"model {version} is not in the registry")
    return json.loads(df.artifact[0])


def feature_matrix(model, df):
    """Encodes a snapshot DataFrame the way the model's features were encoded in
    training: numbers as float32, categorical values as the index of the value in
    the model's categories (NaN when unknown), in the model's column order."""
    cols = []
    for f in model["features"]:
        v = df[f["name"]]
        if f["categories"] is not None:
            index = {c: float(i) for i, c in enumerate(f["categories"])}
            cols.append(v.map(index).astype("float64").to_numpy())
        else:
            cols.append(pd.to_numeric(v).astype("float64").to_numpy())
    return np.column_stack(cols).astype(np.float32)


def booster(model):
    """The XGBoost booster of a model file, loaded by python3-xgboost from the
    XGBoost JSON the file carries (base64 in field "xgboost")."""
    import xgboost as xgb

    b = xgb.Booster()
    b.load_model(bytearray(base64.b64decode(model["xgboost"])))
    return b


def margins(model, x):
    """Uncalibrated log-odds of churn of every row of x (from feature_matrix)."""
    if model["algorithm"] == "xgboost":
        import xgboost as xgb

        b = booster(model)
        best = b.attr("best_iteration")
        # Like the Go service: rounds after an early stop's best one stay in the
        # file but do not vote.
        rng = (0, int(best) + 1) if best is not None else (0, 0)
        return b.predict(xgb.DMatrix(x, missing=np.nan, feature_names=b.feature_names), output_margin=True, iteration_range=rng).astype(np.float64)
    if model["algorithm"] == "logistic":
        lg = model["logistic"]
        return _encode_logistic(lg["encoder"], x) @ np.asarray(lg["coef"]) + lg["intercept"]
    raise ValueError(f"unknown algorithm {model['algorithm']!r}")


def _encode_logistic(enc, x):
    """The logistic model's design matrix: medians for missing numbers, then
    standardised, with a missing indicator where training had gaps; categories
    one-hot (unknown: all zeros)."""
    out = []
    for j, c in enumerate(enc["columns"]):
        v = x[:, j].astype(np.float64)
        if c["categories"] is not None:
            for i in range(len(c["categories"])):
                out.append(np.where(np.isnan(v), 0.0, (v == i).astype(np.float64)))
            continue
        out.append((np.where(np.isnan(v), c["median"], v) - c["mean"]) / c["std"])
        if c.get("missing"):
            out.append(np.isnan(v).astype(np.float64))
    return np.column_stack(out)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def calibrate(model, p):
    """Applies the model file's calibration (Platt or isotonic) to raw probabilities."""
    cal = model.get("calibration") or {}
    if cal.get("method") == "platt":
        q = np.clip(p, 1e-15, 1 - 1e-15)
        return sigmoid(cal["platt"]["slope"] * np.log(q / (1 - q)) + cal["platt"]["intercept"])
    if cal.get("method") == "isotonic":
        iso = cal["isotonic"]
        return np.clip(np.interp(p, iso["x"], iso["y"]), iso["eps"], 1 - iso["eps"])
    return p


def predict(model, df):
    """Calibrated churn probabilities of the rows of a snapshot DataFrame."""
    return calibrate(model, sigmoid(margins(model, feature_matrix(model, df))))


def wilson(successes, n, z=1.96):
    """Wilson score interval of a proportion (95% by default): (low, high)."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (centre - half, centre + half)


def newcombe(churned_control, n_control, churned_treated, n_treated, z=1.96):
    """Newcombe's hybrid score interval of control rate − treated rate (95% by
    default), the churn the actions prevented: (difference, low, high)."""
    if n_control == 0 or n_treated == 0:
        return (math.nan, math.nan, math.nan)
    pc, pt = churned_control / n_control, churned_treated / n_treated
    lc, uc = wilson(churned_control, n_control, z)
    lt, ut = wilson(churned_treated, n_treated, z)
    d = pc - pt
    return (d, d - math.sqrt((pc - lc) ** 2 + (ut - pt) ** 2), d + math.sqrt((uc - pc) ** 2 + (pt - lt) ** 2))


def qini(score, treated, churned, points=20):
    """Qini curve and coefficient of a ranking, as model/uplift computes them:
    after targeting each share of the customers with the highest scores, the
    churn prevented among them (control churners scaled to the treated count,
    minus treated churners) as a share of all customers; the coefficient is the
    area between the curve and random targeting. Returns (DataFrame with share
    and incremental, coefficient)."""
    df = pd.DataFrame({"score": score, "treated": treated, "churned": churned}).reset_index(drop=True)
    df = df.iloc[np.argsort(-df.score.to_numpy(), kind="stable")]
    n = len(df)
    if n == 0:
        return pd.DataFrame({"share": [], "incremental": []}), 0.0
    t = df.treated.to_numpy(dtype=bool)
    c = df.churned.to_numpy(dtype=bool)
    nt, nc = np.cumsum(t), np.cumsum(~t)
    ct, cc = np.cumsum(t & c), np.cumsum(~t & c)
    inc = -ct + np.where(nc > 0, cc * nt / np.maximum(nc, 1), 0)
    # The curve's points: the first row at or past each k/points of the rows.
    idx = sorted({min(n, -(-k * n // points)) - 1 for k in range(1, points + 1)})
    share = np.concatenate([[0.0], (np.array(idx) + 1) / n])
    incr = np.concatenate([[0.0], inc[idx] / n])
    total = incr[-1]
    gap = incr - share * total
    area = float(np.sum(np.diff(share) * (gap[1:] + gap[:-1]) / 2))
    return pd.DataFrame({"share": share, "incremental": incr}), area
